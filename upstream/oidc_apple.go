package upstream

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idledger/idledger/idp"
)

// appleSecretLifetime is how long one generated client secret is valid;
// the registry rebuilds the provider (TTL) well before.
const appleSecretLifetime = 24 * time.Hour

// appleClientSecret is Sign in with Apple's client secret: an ES256 JWT
// signed with the template's PKCS#8 key, kid = key ID, iss = team ID, sub =
// client ID, aud = Apple's issuer.
func appleClientSecret(c *idp.AppleConfig, audience string, now time.Time) (string, error) {
	der, err := decodeAppleKey(c.PrivateKey)
	if err != nil {
		return "", err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return "", fmt.Errorf("upstream: apple private key: %w", err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return "", errors.New("upstream: apple private key is not an EC key")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ec},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", c.KeyID))
	if err != nil {
		return "", fmt.Errorf("upstream: apple signer: %w", err)
	}
	claims := jwt.Claims{
		Issuer: c.TeamID, Subject: c.ClientID, Audience: jwt.Audience{audience},
		IssuedAt: jwt.NewNumericDate(now.Add(-2 * time.Second)), Expiry: jwt.NewNumericDate(now.Add(appleSecretLifetime)),
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// decodeAppleKey reads the stored key: base64 of the .p8 file (PEM), or of
// the DER itself.
func decodeAppleKey(s string) ([]byte, error) {
	var raw []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			raw = b
			break
		}
	}
	if raw == nil {
		return nil, errors.New("upstream: apple private key is not base64")
	}
	if blk, _ := pem.Decode(raw); blk != nil {
		return blk.Bytes, nil
	}
	return raw, nil
}
