package ldap

import "strconv"

// Result codes (RFC 4511 Appendix A, plus the Cancel codes of RFC 3909).
const (
	Success                      ResultCode = 0
	OperationsError              ResultCode = 1
	ProtocolError                ResultCode = 2
	TimeLimitExceeded            ResultCode = 3
	SizeLimitExceeded            ResultCode = 4
	CompareFalse                 ResultCode = 5
	CompareTrue                  ResultCode = 6
	AuthMethodNotSupported       ResultCode = 7
	StrongerAuthRequired         ResultCode = 8
	Referral                     ResultCode = 10
	AdminLimitExceeded           ResultCode = 11
	UnavailableCriticalExtension ResultCode = 12
	ConfidentialityRequired      ResultCode = 13
	SaslBindInProgress           ResultCode = 14
	NoSuchAttribute              ResultCode = 16
	UndefinedAttributeType       ResultCode = 17
	InappropriateMatching        ResultCode = 18
	ConstraintViolation          ResultCode = 19
	AttributeOrValueExists       ResultCode = 20
	InvalidAttributeSyntax       ResultCode = 21
	NoSuchObject                 ResultCode = 32
	AliasProblem                 ResultCode = 33
	InvalidDNSyntax              ResultCode = 34
	AliasDereferencingProblem    ResultCode = 36
	InappropriateAuthentication  ResultCode = 48
	InvalidCredentials           ResultCode = 49
	InsufficientAccessRights     ResultCode = 50
	Busy                         ResultCode = 51
	Unavailable                  ResultCode = 52
	UnwillingToPerform           ResultCode = 53
	LoopDetect                   ResultCode = 54
	SortControlMissing           ResultCode = 60 // virtual list view (draft-ietf-ldapext-ldapv3-vlv)
	OffsetRangeError             ResultCode = 61
	NamingViolation              ResultCode = 64
	ObjectClassViolation         ResultCode = 65
	NotAllowedOnNonLeaf          ResultCode = 66
	NotAllowedOnRDN              ResultCode = 67
	EntryAlreadyExists           ResultCode = 68
	ObjectClassModsProhibited    ResultCode = 69
	AffectsMultipleDSAs          ResultCode = 71
	Other                        ResultCode = 80
	Canceled                     ResultCode = 118
	NoSuchOperation              ResultCode = 119
	TooLate                      ResultCode = 120
	CannotCancel                 ResultCode = 121
	// ESyncRefreshRequired (RFC 4533 §2.3): a content synchronisation
	// must start again without a cookie.
	ESyncRefreshRequired ResultCode = 4096
)

var resultCodeNames = map[ResultCode]string{
	Success:                      "success",
	OperationsError:              "operationsError",
	ProtocolError:                "protocolError",
	TimeLimitExceeded:            "timeLimitExceeded",
	SizeLimitExceeded:            "sizeLimitExceeded",
	CompareFalse:                 "compareFalse",
	CompareTrue:                  "compareTrue",
	AuthMethodNotSupported:       "authMethodNotSupported",
	StrongerAuthRequired:         "strongerAuthRequired",
	Referral:                     "referral",
	AdminLimitExceeded:           "adminLimitExceeded",
	UnavailableCriticalExtension: "unavailableCriticalExtension",
	ConfidentialityRequired:      "confidentialityRequired",
	SaslBindInProgress:           "saslBindInProgress",
	NoSuchAttribute:              "noSuchAttribute",
	UndefinedAttributeType:       "undefinedAttributeType",
	InappropriateMatching:        "inappropriateMatching",
	ConstraintViolation:          "constraintViolation",
	AttributeOrValueExists:       "attributeOrValueExists",
	InvalidAttributeSyntax:       "invalidAttributeSyntax",
	NoSuchObject:                 "noSuchObject",
	AliasProblem:                 "aliasProblem",
	InvalidDNSyntax:              "invalidDNSyntax",
	AliasDereferencingProblem:    "aliasDereferencingProblem",
	InappropriateAuthentication:  "inappropriateAuthentication",
	InvalidCredentials:           "invalidCredentials",
	InsufficientAccessRights:     "insufficientAccessRights",
	Busy:                         "busy",
	Unavailable:                  "unavailable",
	UnwillingToPerform:           "unwillingToPerform",
	LoopDetect:                   "loopDetect",
	NamingViolation:              "namingViolation",
	ObjectClassViolation:         "objectClassViolation",
	NotAllowedOnNonLeaf:          "notAllowedOnNonLeaf",
	NotAllowedOnRDN:              "notAllowedOnRDN",
	SortControlMissing:           "sortControlMissing",
	OffsetRangeError:             "offsetRangeError",
	EntryAlreadyExists:           "entryAlreadyExists",
	ObjectClassModsProhibited:    "objectClassModsProhibited",
	AffectsMultipleDSAs:          "affectsMultipleDSAs",
	Other:                        "other",
	Canceled:                     "canceled",
	NoSuchOperation:              "noSuchOperation",
	TooLate:                      "tooLate",
	CannotCancel:                 "cannotCancel",
	ESyncRefreshRequired:         "e-syncRefreshRequired",
}

// String returns the code's RFC name, or "resultCode(N)" for codes it does
// not know (a code is still valid on the wire when unknown).
func (c ResultCode) String() string {
	if n, ok := resultCodeNames[c]; ok {
		return n
	}
	return "resultCode(" + strconv.Itoa(int(c)) + ")"
}

// Known reports whether c is one of the codes above.
func (c ResultCode) Known() bool {
	_, ok := resultCodeNames[c]
	return ok
}
