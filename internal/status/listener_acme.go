package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ListenerConditionAutomaticCertificates is the listener condition that reports the
// state of the certificates an HTTPS listener obtains over ACME. Only a listener served
// with automatic certificates has it.
const ListenerConditionAutomaticCertificates = "caddygateway.io/AutomaticCertificates"

// Reasons of the AutomaticCertificates listener condition.
const (
	// ReasonCertificatesValid: every certificate of the listener is held and valid.
	ReasonCertificatesValid = "Valid"
	// ReasonCertificatesObtaining: an order is under way and no valid certificate is
	// held yet.
	ReasonCertificatesObtaining = "Obtaining"
	// ReasonCertificatesFailing: the last order or renewal of a certificate failed.
	ReasonCertificatesFailing = "Failing"
	// ReasonCertificatesPending: no state of a certificate has been recorded yet.
	ReasonCertificatesPending = "Pending"
)

// ListenerCertificatesValid is AutomaticCertificates=True: message names each
// certificate and its expiry.
func ListenerCertificatesValid(generation int64, message string) metav1.Condition {
	return condition(ListenerConditionAutomaticCertificates, true, ReasonCertificatesValid, message, generation)
}

// ListenerCertificatesObtaining is AutomaticCertificates=False while a certificate is
// being obtained.
func ListenerCertificatesObtaining(generation int64, message string) metav1.Condition {
	return condition(ListenerConditionAutomaticCertificates, false, ReasonCertificatesObtaining, message, generation)
}

// ListenerCertificatesFailing is AutomaticCertificates=False when obtaining or renewing
// a certificate failed; message carries the CA's message.
func ListenerCertificatesFailing(generation int64, message string) metav1.Condition {
	return condition(ListenerConditionAutomaticCertificates, false, ReasonCertificatesFailing, message, generation)
}

// ListenerCertificatesPending is AutomaticCertificates=Unknown before any state is
// recorded (or when there is nothing to obtain yet).
func ListenerCertificatesPending(generation int64, message string) metav1.Condition {
	return metav1.Condition{Type: ListenerConditionAutomaticCertificates, Status: metav1.ConditionUnknown,
		Reason: ReasonCertificatesPending, Message: message, ObservedGeneration: generation}
}
