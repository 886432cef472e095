package translator

import "sync/atomic"

// SplitEveryRoute makes checkInOrder give every table helpers and check one route at
// a time, until the returned function is called.
func SplitEveryRoute() (restore func()) {
	from, chunk := helpersFrom, routesPerChunk
	helpersFrom, routesPerChunk = 1, 1
	return func() { helpersFrom, routesPerChunk = from, chunk }
}

// PanicWhenChecking makes checking the route namespace/name panic, until the returned
// function is called.
func PanicWhenChecking(namespace, name string) (restore func()) {
	beforeCheck = func(ns, n string) {
		if ns == namespace && n == name {
			panic("checking " + ns + "/" + n)
		}
	}
	return func() { beforeCheck = nil }
}

// CountChecks counts the routes whose rules are checked, until restore is called;
// checked returns the count since its last call.
func CountChecks() (checked func() int, restore func()) {
	var n atomic.Int64
	beforeCheck = func(string, string) { n.Add(1) }
	return func() int { return int(n.Swap(0)) }, func() { beforeCheck = nil }
}
