package translator

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
