package routetable

import "strings"

// HasExactHost reports whether the process holds a host table for the exact host
// (lower-cased) in table: a route attached to the table's listener names that host
// itself, not through a wildcard or the catch-all. It reads the tables as they are now,
// changes made through the admin API included, and changes nothing.
func HasExactHost(table, host string) bool {
	host = strings.ToLower(host)
	if host == "" || strings.Contains(host, "*") {
		return false
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	_, ok := reg.tables[table][host]
	return ok
}
