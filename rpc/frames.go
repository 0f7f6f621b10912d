package rpc

import (
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/idledger/idledger/api/gateway"
	"github.com/idledger/idledger/errs"
)

// checkedTransport answers what connect would answer badly: a gRPC request
// over HTTP/1.1, whose answer needs trailers that an HTTP/1.1 response
// sized by Content-Length drops (FAILED_PRECONDITION, as for reflection
// over HTTP/1), and a gRPC or
// gRPC-Web body with a broken frame, which connect calls INTERNAL although
// the caller sent it (INVALID_ARGUMENT; see framed).
func checkedTransport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if !strings.HasPrefix(ct, "application/grpc") {
			next.ServeHTTP(w, r)
			return
		}
		if r.ProtoMajor < 2 && !strings.HasPrefix(ct, "application/grpc-web") {
			gateway.WriteError(w, r, errs.FailedPrecondition("RPC-Http2", "gRPC needs HTTP/2 (h2c or TLS); over HTTP/1.1 use gRPC-Web or Connect"))
			return
		}
		enc := r.Header.Get("Grpc-Encoding")
		r.Body = &framed{r: r.Body, plain: enc == "" || enc == "identity"}
		next.ServeHTTP(w, r)
	})
}

// framed follows the length-prefixed frames of a gRPC or gRPC-Web request
// body as connect reads it, and fails the read with INVALID_ARGUMENT, which
// connect passes on as it is, where the body ends inside a frame, a frame
// has flags other than "compressed", or is compressed on a request that
// names no compression. It never reads across a frame's prefix and payload,
// so a bad prefix is refused before connect sees it.
type framed struct {
	r     io.ReadCloser
	plain bool // no grpc-encoding: the compressed flag is a lie
	head  [5]byte
	nhead int    // prefix bytes of the current frame read so far
	left  uint32 // payload bytes of the current frame still due
	size  uint32 // the current frame's payload length
}

func (f *framed) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return f.r.Read(p)
	}
	inHead := f.left == 0
	if inHead {
		p = p[:min(len(p), 5-f.nhead)]
	} else if uint32(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	if inHead {
		copy(f.head[f.nhead:], p[:n])
		if f.nhead == 0 && n > 0 {
			if bad := f.flagError(p[0]); bad != nil {
				return 0, bad
			}
		}
		f.nhead += n
		if f.nhead == 5 {
			f.nhead, f.size = 0, binary.BigEndian.Uint32(f.head[1:])
			f.left = f.size
		}
	} else {
		f.left -= uint32(n)
	}
	if err == io.EOF {
		switch {
		case f.nhead > 0:
			return n, invalidFrame("incomplete frame prefix: %d of 5 bytes", f.nhead)
		case f.left > 0:
			return n, invalidFrame("promised %d bytes in the frame, got %d", f.size, f.size-f.left)
		}
	}
	return n, err
}

func (f *framed) Close() error { return f.r.Close() }

func (f *framed) flagError(flags byte) error {
	const compressed = 1
	switch {
	case flags&^compressed != 0:
		return invalidFrame("invalid frame flags %#x", flags)
	case flags&compressed != 0 && f.plain:
		return invalidFrame("a compressed frame on a request without grpc-encoding")
	}
	return nil
}

func invalidFrame(format string, a ...any) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("protocol error: "+format, a...))
}
