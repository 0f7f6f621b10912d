package command

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/idledger/idledger/errs"
	"github.com/idledger/idledger/events"
	"github.com/idledger/idledger/eventstore"
)

// Password hashing: argon2id (RFC 9106) with OWASP's second recommended
// parameter set, 19 MiB, 2 passes, 1 lane. The parameters and the salt are
// stored with the hash in a PHC string, so raising them later leaves the
// old hashes verifiable.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashPassword returns the PHC string of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
func hashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := withHashSlot(func() []byte {
		return argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	})
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// hashSlots bounds the password hashes computed at once to the CPUs Go
// runs on. Each argon2id takes 19 MiB and a core for about 50 ms: more at
// once finish no sooner, and their memory grew without bound under load
// (1.4 GiB at 64 concurrent password checks, docs/performance.md).
var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// hashesInFlight and hashesPeak count the hashes running, for the test of
// the bound; hashesRun counts every hash run.
var hashesInFlight, hashesPeak, hashesRun atomic.Int64

// withHashSlot runs f, a password hash, when a slot is free.
func withHashSlot[T any](f func() T) T {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	hashesRun.Add(1)
	n := hashesInFlight.Add(1)
	defer hashesInFlight.Add(-1)
	for p := hashesPeak.Load(); n > p && !hashesPeak.CompareAndSwap(p, n); p = hashesPeak.Load() {
	}
	return f()
}

// argonParams is a parsed argon2id PHC string.
type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// maxArgonMemory bounds the memory an imported hash may ask for (1 GiB),
// so that a crafted hashedPassword cannot exhaust the server.
const maxArgonMemory = 1 << 20

func parseArgon2id(encoded string) (*argonParams, bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, false
	}
	var p argonParams
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil || n != 3 {
		return nil, false
	}
	if p.memory == 0 || p.memory > maxArgonMemory || p.time == 0 || p.time > 16 || threads == 0 || threads > 16 {
		return nil, false
	}
	p.threads = uint8(threads)
	var err error
	b64 := base64.RawStdEncoding
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return nil, false
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return nil, false
	}
	return &p, true
}

// validPasswordHash reports whether encoded is a hash that verifyPassword
// can check: argon2id (PHC) or bcrypt ($2a$, $2b$, $2y$), the formats an
// imported hashedPassword may use.
func validPasswordHash(encoded string) bool {
	if _, ok := parseArgon2id(encoded); ok {
		return true
	}
	if _, err := bcrypt.Cost([]byte(encoded)); err == nil {
		return true
	}
	return false
}

// verifyPassword reports whether password matches encoded. The comparison
// of the derived keys is constant-time.
// secretHashPrefix marks the stored form of a secret that idledger
// generated: "$sha256$" and the hex SHA-256 of the secret.
const secretHashPrefix = "$sha256$"

// hashSecret is the stored form of a client secret idledger generated (64
// letters and digits from crypto/rand, about 381 bits). A slow password
// hash exists to make guessing a human's password offline expensive; a
// random secret of this size cannot be guessed however fast each guess is,
// so its digest can be as fast as a PAT's or a session token's, and every
// client_credentials grant and client authentication stops paying an
// argon2id run (tens of milliseconds, the whole CPU budget of a token
// request). ZITADEL hashes such secrets apart from passwords too
// (SecretHasher, bcrypt at cost 4).
func hashSecret(secret string) string { return secretHashPrefix + events.PATHash(secret) }

// verifySecret checks secret against a stored client secret: the digest of
// hashSecret, or a password hash (secrets stored before it, or imported
// with ZITADEL's bcrypt).
func verifySecret(encoded, secret string) bool {
	if h, ok := strings.CutPrefix(encoded, secretHashPrefix); ok {
		// Both sides are digests: the compare leaks nothing of the secret.
		return subtle.ConstantTimeCompare([]byte(h), []byte(events.PATHash(secret))) == 1
	}
	return verifyPassword(encoded, secret)
}

func verifyPassword(encoded, password string) bool {
	if p, ok := parseArgon2id(encoded); ok {
		key := withHashSlot(func() []byte {
			return argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
		})
		return subtle.ConstantTimeCompare(key, p.key) == 1
	}
	if strings.HasPrefix(encoded, "$2") {
		return withHashSlot(func() bool { return bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)) == nil })
	}
	return false
}

// PasswordPolicy is a password complexity policy. DefaultPasswordPolicy is
// ZITADEL's default, the one idledger applies (no API changes it yet).
type PasswordPolicy struct {
	MinLength    int
	HasUppercase bool
	HasLowercase bool
	HasNumber    bool
	HasSymbol    bool
}

// DefaultPasswordPolicy is ZITADEL's default complexity policy.
var DefaultPasswordPolicy = PasswordPolicy{MinLength: 8, HasUppercase: true, HasLowercase: true, HasNumber: true, HasSymbol: true}

var (
	reLower  = regexp.MustCompile(`[a-z]`)
	reUpper  = regexp.MustCompile(`[A-Z]`)
	reNumber = regexp.MustCompile(`[0-9]`)
	reSymbol = regexp.MustCompile(`[^A-Za-z0-9]`)
)

// Validate checks password against p in ZITADEL's order, with its error
// IDs. The length counts bytes, as ZITADEL's does.
//
// Errors: InvalidArgument COMMA-HuJf6, COMMA-co3Xw, COMMA-VoaRj,
// COMMA-ZBv4H, COMMA-ZDLwA.
func (p PasswordPolicy) Validate(password string) error {
	switch {
	case p.MinLength != 0 && len(password) < p.MinLength:
		return errs.InvalidArgument("COMMA-HuJf6", "Errors.User.PasswordComplexityPolicy.MinLength")
	case p.HasLowercase && !reLower.MatchString(password):
		return errs.InvalidArgument("COMMA-co3Xw", "Errors.User.PasswordComplexityPolicy.HasLower")
	case p.HasUppercase && !reUpper.MatchString(password):
		return errs.InvalidArgument("COMMA-VoaRj", "Errors.User.PasswordComplexityPolicy.HasUpper")
	case p.HasNumber && !reNumber.MatchString(password):
		return errs.InvalidArgument("COMMA-ZBv4H", "Errors.User.PasswordComplexityPolicy.HasNumber")
	case p.HasSymbol && !reSymbol.MatchString(password):
		return errs.InvalidArgument("COMMA-ZDLwA", "Errors.User.PasswordComplexityPolicy.HasSymbol")
	}
	return nil
}

// Password is a new password of a human: in plaintext (checked against
// the complexity policy, then hashed) or as an imported hash.
type Password struct {
	Password       string // plaintext; never stored, never logged
	Hash           string // or an imported hash (argon2id PHC or bcrypt)
	ChangeRequired bool
}

// String keeps the plaintext out of logs and %v.
func (Password) String() string { return "command.Password{[redacted]}" }

// GoString keeps the plaintext out of %#v.
func (p Password) GoString() string { return p.String() }

// encode validates p (msg names the message holding it, for PGV's
// wording) and returns its event payload: the policy check and
// the slow hash run here, outside any retried decision.
//
// Errors: InvalidArgument (the policy's IDs above, or COMMAND-Hash1 for an
// imported hash that is no argon2id or bcrypt hash).
func (p Password) encode(msg string) (events.PasswordChangedPayload, error) {
	if p.Hash != "" {
		if !validPasswordHash(p.Hash) {
			return events.PasswordChangedPayload{}, errs.InvalidArgument("COMMAND-Hash1", "Errors.User.Password.HashUnsupported")
		}
		return events.PasswordChangedPayload{EncodedHash: p.Hash, ChangeRequired: p.ChangeRequired}, nil
	}
	if err := validLen("Password.Password", p.Password, 1, 200); err != nil {
		return events.PasswordChangedPayload{}, embedded(msg, err)
	}
	if err := DefaultPasswordPolicy.Validate(p.Password); err != nil {
		return events.PasswordChangedPayload{}, err
	}
	h, err := hashPassword(p.Password)
	if err != nil {
		return events.PasswordChangedPayload{}, errs.Internal("COMMAND-Pwd01", err)
	}
	return events.PasswordChangedPayload{EncodedHash: h, ChangeRequired: p.ChangeRequired}, nil
}

// SetPassword is v2 SetPassword: a new password, verified by the current
// password or by a verification code, or, without either, by the caller's
// user.write on the user's org.
type SetPassword struct {
	UserID           string
	New              Password
	CurrentPassword  *string
	VerificationCode *string
}

// SetPassword sets a human's password. With CurrentPassword the current
// password is checked first, and a wrong one counts as a failed check
// (lockout). Without it, the caller needs user.write on the user's org and
// its roles must cover the user's ("credentials follow power"); this holds
// for the caller's own user too, so that a stolen token alone cannot
// change a password. No flow issues verification codes yet, so a
// VerificationCode always fails as a code that does not exist.
//
// Errors: InvalidArgument naming the field, or the complexity policy's
// IDs; FailedPrecondition COMMAND-G8dh3 (no such human), COMMAND-2M9fs
// (no code), COMMAND-JLK35 (locked), COMMAND-WEf3t (no password set);
// InvalidArgument COMMAND-3M0fs (wrong current password; FailedPrecondition
// COMMAND-SFA3t when that failure locks the user); PermissionDenied
// AUTHZ-HKJD33 or AUTHZ-Cov01.
func (c *Commands) SetPassword(ctx context.Context, in SetPassword) (*Details, error) {
	cl, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := validLen("SetPasswordRequest.UserId", in.UserID, 1, 200); err != nil {
		return nil, err
	}
	if in.CurrentPassword != nil {
		if err := validLen("SetPasswordRequest.CurrentPassword", *in.CurrentPassword, 1, 200); err != nil {
			return nil, err
		}
	}
	if in.VerificationCode != nil {
		if err := validLen("SetPasswordRequest.VerificationCode", *in.VerificationCode, 1, 20); err != nil {
			return nil, err
		}
	}
	payload, err := in.New.encode("SetPasswordRequest.NewPassword")
	if err != nil {
		return nil, err
	}
	var checkErr error
	u, evs, err := executeOn(ctx, c, c.loadUser, cl.InstanceID, in.UserID, func(ctx context.Context, u *userModel) (eventstore.Append, error) {
		checkErr = nil
		if !u.exists || u.kind != "human" {
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-G8dh3", "Errors.User.Password.NotFound")
		}
		switch {
		case in.VerificationCode != nil:
			return eventstore.Append{}, errs.FailedPrecondition("COMMAND-2M9fs", "Errors.User.Code.NotFound")
		case in.CurrentPassword != nil:
			if cl.UserID != u.ref.ID {
				if err := cl.Check("user.write", u.orgID); err != nil {
					return eventstore.Append{}, err
				}
			}
			pend, err := c.passwordCheck(u, *in.CurrentPassword, "")
			if err != nil {
				if pend == nil {
					return eventstore.Append{}, err
				}
				// The failed check is recorded; the password stays.
				checkErr = err
				return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: u.ref,
					ResourceOwner: u.orgID, Expected: u.head, Events: pend}}}, nil
			}
		default:
			if err := cl.Check("user.write", u.orgID); err != nil {
				return eventstore.Append{}, err
			}
			if _, err := c.checkPower(ctx, cl, u.ref.ID); err != nil {
				return eventstore.Append{}, err
			}
		}
		return eventstore.Append{Aggregates: []eventstore.AggregateAppend{{Aggregate: u.ref, ResourceOwner: u.orgID,
			Expected: u.head, Events: []eventstore.PendingEvent{{Type: events.UserPasswordChanged, Payload: payload}}}}}, nil
	})
	if err != nil {
		return nil, err
	}
	if checkErr != nil {
		return nil, checkErr
	}
	return detailsFromEvents(evs, u.ref, u.created), nil
}

// passwordCheck checks password against u's hash under the lockout
// policy. On success it returns the check's success event (none when
// nothing needs resetting); on a wrong password it returns the failure
// event, and user.locked when this failure reaches the policy's maximum,
// together with the error: the caller appends them and then fails. A nil
// slice with an error means nothing is to be recorded.
//
// Errors: FailedPrecondition COMMAND-JLK35 (locked before the check),
// COMMAND-WEf3t (no password); InvalidArgument COMMAND-3M0fs (wrong),
// FailedPrecondition COMMAND-SFA3t (wrong, and now locked).
func (c *Commands) passwordCheck(u *userModel, password, sessionID string) ([]eventstore.PendingEvent, error) {
	if u.locked {
		return nil, errs.FailedPrecondition("COMMAND-JLK35", "Errors.User.Locked")
	}
	if u.passwordHash == "" {
		return nil, errs.FailedPrecondition("COMMAND-WEf3t", "Errors.User.Password.NotSet")
	}
	p := events.PasswordCheckPayload{SessionID: sessionID}
	if verifyPassword(u.passwordHash, password) {
		return []eventstore.PendingEvent{{Type: events.UserPasswordCheckSucceeded, Payload: p}}, nil
	}
	pend := []eventstore.PendingEvent{{Type: events.UserPasswordCheckFailed, Payload: p}}
	if max := c.maxPasswordAttempts; max > 0 && u.failedPasswordChecks+1 >= max {
		pend = append(pend, eventstore.PendingEvent{Type: events.UserLocked})
		return pend, errs.FailedPrecondition("COMMAND-SFA3t", "Errors.User.Locked")
	}
	return pend, errs.InvalidArgument("COMMAND-3M0fs", "Errors.User.Password.Invalid")
}
