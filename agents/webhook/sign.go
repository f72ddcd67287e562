package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret, as in the Standard Webhooks
// libraries, which accept a secret with or without it.
const SecretPrefix = "whsec_"

// The Standard Webhooks headers of every delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// secretBytes is the size of a generated key: SHA-256's output size, the
// least RFC 2104 recommends for HMAC-SHA256.
const secretBytes = 32

// NewSecret returns a new random signing secret, "whsec_" and the base64
// of 32 random bytes.
func NewSecret() string {
	var b [secretBytes]byte
	rand.Read(b[:]) // never fails (crypto/rand documents it)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

var errBadSecret = errors.New("webhook secret is not whsec_ followed by base64")

// secretKey returns the HMAC key of a secret: the base64 after the prefix.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errBadSecret
	}
	return key, nil
}

// Sign returns the Standard Webhooks signature of one delivery attempt:
// "v1," and the base64 of HMAC-SHA256(key, msgID + "." + unix seconds +
// "." + body), where key is the base64-decoded part of secret.
func Sign(secret, msgID string, at time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(at.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// signatures returns the webhook-signature header: one signature per
// secret, space-separated, so a receiver still holding the previous secret
// of a rotation verifies too.
func signatures(secrets []string, msgID string, at time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Sign(s, msgID, at, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}
