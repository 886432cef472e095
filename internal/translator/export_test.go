package translator

// SplitEveryRoute makes checkInOrder give every table helpers and check one route at
// a time, until the returned function is called.
func SplitEveryRoute() (restore func()) {
	from, chunk := helpersFrom, routesPerChunk
	helpersFrom, routesPerChunk = 1, 1
	return func() { helpersFrom, routesPerChunk = from, chunk }
}
