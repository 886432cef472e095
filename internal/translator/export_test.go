package translator

// SplitEveryRoute makes checkRoutes give every pending route a goroutine of its own
// until the returned function is called.
func SplitEveryRoute() (restore func()) {
	old := routesPerWorker
	routesPerWorker = 1
	return func() { routesPerWorker = old }
}
