package controller

// NewSecretMetadataCache is newSecretMetadataCache, for the tests of controller_test.
var NewSecretMetadataCache = newSecretMetadataCache
