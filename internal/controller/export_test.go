package controller

// NewSecretMetadataCache is newSecretMetadataCache, for the tests of controller_test.
var NewSecretMetadataCache = newSecretMetadataCache

// ReleasedStatus is releasedStatus, for the tests of controller_test.
var ReleasedStatus = releasedStatus
