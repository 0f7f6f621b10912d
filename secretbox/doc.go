// Package secretbox encrypts IdP secrets (client secrets, the LDAP bind
// password, the Apple private key) with AES-256-GCM before they reach an event.
//
// Each ciphertext is bound, as GCM additional data, to the AAD triple
// (instance, IdP, field), so a sealed value copied to another IdP or field
// does not open. Each Sealed value records the ID of the key that sealed it;
// a Keyring holds the current key plus older keys that still open, which is
// how the master key is rotated (see Keyring.Reseal).
//
// Imports: no package of the module.
//
// Start reading at NewKeyring and ParseMasterKey in secretbox.go.
package secretbox
