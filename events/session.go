package events

import "time"

// AggSession is the aggregate of a v2 session (ZITADEL's "session"):
// aggregate ID = session ID, resource owner = instance ID.
const AggSession = "session"

// Passwords and the lockout of users (user aggregate).
const (
	// UserPasswordChanged sets a human's password: only its argon2id hash
	// (a PHC string) is stored, under encodedHash, which events list
	// redacts and no projection copies.
	UserPasswordChanged        = "user.human.password.changed"
	UserPasswordCheckSucceeded = "user.human.password.check.succeeded"
	UserPasswordCheckFailed    = "user.human.password.check.failed"
	UserLocked                 = "user.locked"
	UserUnlocked               = "user.unlocked"
	SessionAdded               = "session.added"
	SessionUserChecked         = "session.user.checked"
	SessionPasswordChecked     = "session.password.checked"
	SessionIntentChecked       = "session.intent.checked"
	SessionTokenSet            = "session.token.set"
	SessionLifetimeSet         = "session.lifetime.set"
	SessionMetadataSet         = "session.metadata.set"
	SessionTerminated          = "session.terminated"
)

// PasswordChangedPayload holds the hash of the new password, never the
// password.
type PasswordChangedPayload struct {
	EncodedHash    string `json:"encodedHash"` // PHC string: $argon2id$v=19$m=…,t=…,p=…$salt$hash
	ChangeRequired bool   `json:"changeRequired,omitempty"`
}

// SecretPayloadFields are the payload fields of events that hold a
// secret or a password hash (passwords here, client secrets in
// project.go): events list redacts them wherever they occur.
var SecretPayloadFields = []string{"encodedHash", "hashedSecret"}

// PasswordCheckPayload records one password check of a user; SessionID
// names the session whose check it was, when there was one.
type PasswordCheckPayload struct {
	SessionID string `json:"sessionId,omitempty"`
}

// UserAgent is the user agent a session was created from (ZITADEL's
// session.UserAgent).
type UserAgent struct {
	FingerprintID string              `json:"fingerprintId,omitempty"`
	IP            string              `json:"ip,omitempty"`
	Description   string              `json:"description,omitempty"`
	Header        map[string][]string `json:"header,omitempty"`
}

// SessionAddedPayload starts a session.
type SessionAddedPayload struct {
	UserAgent *UserAgent `json:"userAgent,omitempty"`
}

// SessionUserCheckedPayload names the session's user.
type SessionUserCheckedPayload struct {
	UserID            string    `json:"userId"`
	UserResourceOwner string    `json:"userResourceOwner"`
	CheckedAt         time.Time `json:"checkedAt"`
}

// SessionCheckedPayload is a factor checked at CheckedAt (password,
// intent).
type SessionCheckedPayload struct {
	CheckedAt time.Time `json:"checkedAt"`
}

// SessionTokenSetPayload records a new session token: only its SHA-256,
// never the token (ZITADEL stores an encrypted token ID instead).
type SessionTokenSetPayload struct {
	TokenID   string `json:"tokenId"`
	TokenHash string `json:"tokenHash"` // hex SHA-256 of the token
}

// SessionLifetimeSetPayload: the session expires Lifetime after this
// event.
type SessionLifetimeSetPayload struct {
	Lifetime time.Duration `json:"lifetime"`
}

// SessionMetadataSetPayload is the session's whole metadata after a change.
type SessionMetadataSetPayload struct {
	Metadata map[string][]byte `json:"metadata,omitempty"`
}

func sessionCatalog() []EventInfo {
	return []EventInfo{
		{UserPasswordChanged, AggUser, PasswordChangedPayload{}, "a human's password was set (argon2id hash only, redacted in events list)"},
		{UserPasswordCheckSucceeded, AggUser, PasswordCheckPayload{}, "a password check of the user succeeded (resets the failed-attempt count)"},
		{UserPasswordCheckFailed, AggUser, PasswordCheckPayload{}, "a password check of the user failed (counted by the lockout policy)"},
		{UserLocked, AggUser, nil, "the user was locked: the lockout policy's maximum of failed password checks was reached"},
		{UserUnlocked, AggUser, nil, "the user was unlocked"},
		{SessionAdded, AggSession, SessionAddedPayload{}, "a session was created"},
		{SessionUserChecked, AggSession, SessionUserCheckedPayload{}, "the session's user was checked"},
		{SessionPasswordChecked, AggSession, SessionCheckedPayload{}, "the session user's password was checked"},
		{SessionIntentChecked, AggSession, SessionCheckedPayload{}, "a succeeded IdP intent of the session user was checked"},
		{SessionTokenSet, AggSession, SessionTokenSetPayload{}, "a new session token was issued (SHA-256 only)"},
		{SessionLifetimeSet, AggSession, SessionLifetimeSetPayload{}, "the session's lifetime was set: it expires that long after this event"},
		{SessionMetadataSet, AggSession, SessionMetadataSetPayload{}, "the session's metadata was changed"},
		{SessionTerminated, AggSession, nil, "the session was terminated"},
	}
}
