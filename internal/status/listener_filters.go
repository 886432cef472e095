package status

import gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

// Listener condition reasons of pre-routing filters (listeners[].filters.requests,
// GEP-5224), which Gateway API v1.7.0 names in its GEP but not yet as constants.
const (
	// ListenerReasonInvalidListenerFilter is the reason of Accepted=False for a filter
	// that is structurally invalid.
	ListenerReasonInvalidListenerFilter gwapiv1.ListenerConditionReason = "InvalidListenerFilter"
	// ListenerReasonInvalidListenerFilterRef is the reason of ResolvedRefs=False for a
	// filter whose ExternalAuth backendRef or ExtensionRef does not exist, has a group
	// or kind that is not supported, or cannot be resolved otherwise.
	ListenerReasonInvalidListenerFilterRef gwapiv1.ListenerConditionReason = "InvalidListenerFilterRef"
)
