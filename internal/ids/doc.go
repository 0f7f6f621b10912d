// Package ids generates idledger's resource IDs: sonyflake numbers written as
// decimal strings, the shape ZITADEL's IDs have ("293810385014964226").
//
// Uniqueness across processes rests on the 16-bit machine ID. Configure it
// (--machine-id) whenever several idledger processes may write at once from
// one host or from hosts whose private IPv4 addresses share their lower 16
// bits; otherwise New derives one, as described on New.
//
// Imports: no package of the module.
// Start with New in ids.go.
package ids
