// Package policy is the model of an org's sign-on and password policies,
// shaped like Okta's: their file format, validation, compilation and
// evaluation. It does no I/O and keeps no state; the directory stores the
// policies, compiles them into a Set with each snapshot, and asks the Set on
// every bind.
//
// # File format
//
// Policies are written in YAML (one policy per document, documents
// separated by "---", or a list of policies in a document) or in JSON (an
// object or an array), to be kept in version control:
//
//	kind: sign-on            # or: password
//	name: MFA for people over LDAP
//	priority: 1              # lower first; unique per kind within an org
//	status: ACTIVE           # or INACTIVE (kept, never matches); default ACTIVE
//	people:                  # groups and users by name (login) or id
//	  groups: {include: [Everyone], exclude: [contractors]}
//	  users:  {exclude: [ldap-bind]}
//	rules:                   # sign-on only; by priority
//	  - name: LDAP needs MFA
//	    priority: 1
//	    conditions:
//	      network: {include: [0.0.0.0/0, "::/0"], exclude: [10.1.0.0/16]}
//	      authType: ldap     # any (default) | ldap | api | console
//	      userType: person   # any (default) | person | service_account
//	    action: mfa          # allow | deny | mfa (allow with MFA required)
//	---
//	kind: password
//	name: Strong passwords
//	priority: 1
//	people: {groups: {include: [Everyone]}}
//	settings:                # a setting left out takes the default's value
//	  minLength: 12
//	  minLowerCase: 1
//	  minUpperCase: 1
//	  minNumber: 1
//	  minSymbol: 0
//	  excludeUsername: true
//	  excludeAttributes: [firstName, lastName]
//	  history: 4             # last N passwords not reusable (0 = off)
//	  maxAgeDays: 90         # 0 = never expires
//	  lockout: {maxAttempts: 5, autoUnlockMinutes: 30}
//
// Parse is strict and reports every problem with its document, line and
// field path, and what is allowed. Encode writes the same format back.
// Everyone is a built-in group every user belongs to; it may be included
// but not excluded. Limits: priorities 1 to 9999; names up to 255
// characters; up to 100 rules per policy and 1000 entries per list;
// minLength 1 to 256, class minimums 0 to 256, history 0 to 24,
// maxAgeDays 0 to 3650, lockout.maxAttempts 0 to 100 and
// lockout.autoUnlockMinutes 0 to 525600.
//
// # Evaluation
//
// Sign-on: policies are tried in priority order; the first ACTIVE policy
// whose people match the user applies. Exclusions win over inclusions, and
// a user included by name or id applies even when in no included group.
// Within that policy, the first ACTIVE rule (by priority) whose conditions
// all match gives the action. If none of its rules match, evaluation
// continues with the next policy (Okta's semantics), and finally with the
// built-in default. A sign-on policy may have no rules yet (Okta creates a
// policy first and its rules after): it then decides nothing.
//
// Password: the first ACTIVE password policy whose people match gives the
// settings; the built-in default's otherwise.
//
// # Built-in defaults
//
// Both are named "Default Policy" (a name no other policy may take), apply
// to Everyone, and come after every other policy of their kind:
//
//   - sign-on: one rule, "Default Rule", with no conditions, allowing
//     without MFA (so an org without policies behaves as before);
//   - password: minLength 8, no character classes, login and attributes
//     allowed in the password, history 0 (off), maxAgeDays 0 (never
//     expires), lockout after 10 failed attempts in a row with
//     autoUnlockMinutes 0 (only an admin unlocks). These are Okta's length
//     and lockout defaults without its class requirements, so existing
//     passwords such as "alice-pw" stay acceptable.
package policy
