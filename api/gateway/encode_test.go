package gateway_test

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/idledger/idledger/api/gateway"
)

func TestTimestampMarshal(t *testing.T) {
	base := time.Date(2024, 11, 5, 10, 32, 11, 0, time.UTC)
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"no fraction", base, `"2024-11-05T10:32:11Z"`},
		{"millis", base.Add(412 * time.Millisecond), `"2024-11-05T10:32:11.412Z"`},
		{"millis with trailing zero", base.Add(410 * time.Millisecond), `"2024-11-05T10:32:11.410Z"`},
		{"micros", base.Add(412346 * time.Microsecond), `"2024-11-05T10:32:11.412346Z"`},
		{"nanos", base.Add(412346789), `"2024-11-05T10:32:11.412346789Z"`},
		{"one nano", base.Add(1), `"2024-11-05T10:32:11.000000001Z"`},
		{"one micro", base.Add(time.Microsecond), `"2024-11-05T10:32:11.000001Z"`},
		{"non-UTC input", time.Date(2024, 11, 5, 12, 32, 11, 5e8, time.FixedZone("CEST", 2*3600)),
			`"2024-11-05T10:32:11.500Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(gateway.Timestamp(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := json.Marshal(gateway.Timestamp(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))); err == nil {
		t.Error("year 10000 marshalled")
	}
}

func TestTimestampOmitZeroAndRoundTrip(t *testing.T) {
	type resp struct {
		At gateway.Timestamp `json:"at,omitzero"`
	}
	got, _ := json.Marshal(resp{})
	if string(got) != `{}` {
		t.Errorf("zero time: %s", got)
	}
	for _, in := range []string{`"2024-11-05T10:32:11.412346789Z"`, `"2024-11-05T12:32:11.5+02:00"`, `"2024-11-05T10:32:11Z"`} {
		var v resp
		if err := json.Unmarshal([]byte(`{"at":`+in+`}`), &v); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if v.At.Time().Location() != time.UTC {
			t.Errorf("%s: not UTC", in)
		}
	}
	for _, in := range []string{`"2024-11-05"`, `"2024-11-05T10:32:11.1234567891Z"`, `12`, `"x"`} {
		var v gateway.Timestamp
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}

func TestInt64(t *testing.T) {
	type msg struct {
		I gateway.Int64  `json:"i,omitempty"`
		U gateway.Uint64 `json:"u,omitempty"`
	}
	got, _ := json.Marshal(msg{I: -12, U: math.MaxUint64})
	if string(got) != `{"i":"-12","u":"18446744073709551615"}` {
		t.Errorf("marshal: %s", got)
	}
	got, _ = json.Marshal(msg{})
	if string(got) != `{}` {
		t.Errorf("zero: %s", got)
	}
	for _, in := range []string{`{"i":"12","u":"12"}`, `{"i":12,"u":12}`} {
		var m msg
		if err := json.Unmarshal([]byte(in), &m); err != nil || m.I != 12 || m.U != 12 {
			t.Errorf("%s: %+v %v", in, m, err)
		}
	}
	for _, in := range []string{`{"i":"x"}`, `{"i":1.5}`, `{"i":"+1"}`, `{"i":true}`, `{"u":-1}`,
		`{"i":"9223372036854775808"}`, `{"u":"\u0031"}`} {
		var m msg
		if err := json.Unmarshal([]byte(in), &m); err == nil {
			t.Errorf("%s accepted: %+v", in, m)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{10 * time.Second, `"10s"`},
		{1500 * time.Millisecond, `"1.500s"`},
		{time.Nanosecond, `"0.000000001s"`},
		{time.Microsecond, `"0.000001s"`},
		{0, `"0s"`},
		{-1500 * time.Millisecond, `"-1.500s"`},
		{math.MinInt64, `"-9223372036.854775808s"`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(gateway.Duration(tt.d))
		if string(got) != tt.want {
			t.Errorf("%v: got %s, want %s", tt.d, got, tt.want)
		}
		var back gateway.Duration
		if err := json.Unmarshal(got, &back); err != nil || time.Duration(back) != tt.d {
			t.Errorf("%s: round trip %v %v", got, time.Duration(back), err)
		}
	}
	parse := map[string]time.Duration{
		`"1.5s"`: 1500 * time.Millisecond, `".5s"`: 500 * time.Millisecond, `"1.s"`: time.Second,
		`"+2s"`: 2 * time.Second, `"-0.000000001s"`: -1, `"9223372036.854775807s"`: math.MaxInt64,
	}
	for in, want := range parse {
		var d gateway.Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.Std() != want {
			t.Errorf("%s: %v %v, want %v", in, d.Std(), err, want)
		}
	}
	for _, in := range []string{`"10"`, `"s"`, `"1.0000000001s"`, `"01s"`, `10`, `"1m"`, `"9223372036.854775808s"`, `"-s"`, `"1e3s"`} {
		var d gateway.Duration
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("%s accepted as %v", in, d.Std())
		}
	}
}

func TestWriteJSON(t *testing.T) {
	type resp struct {
		ID      string            `json:"id,omitempty"`
		Name    string            `json:"name,omitempty"`
		Enabled bool              `json:"enabled,omitempty"`
		Seq     gateway.Uint64    `json:"sequence,omitempty"`
		Created gateway.Timestamp `json:"created,omitzero"`
		List    []string          `json:"list,omitempty"`
		URL     string            `json:"url,omitempty"`
	}
	w := httptest.NewRecorder()
	gateway.WriteJSON(w, 201, resp{ID: "1", Seq: 2, URL: "https://a/?b=1&c=<d>"})
	if w.Code != 201 || w.Body.String() != `{"id":"1","sequence":"2","url":"https://a/?b=1&c=<d>"}` {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
	if w.Header().Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type = %q", w.Header().Get("Content-Type"))
	}
}

func TestWriteJSONEncodingFailure(t *testing.T) {
	var logs bytes.Buffer
	h := gateway.Logger(zerolog.New(&logs))(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		gateway.WriteJSON(w, 200, map[string]float64{"x": math.NaN()})
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	if w.Code != 500 || w.Body.String() != `{"code":13,"message":"Internal error"}` {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "NaN") || !strings.Contains(logs.String(), `"level":"error"`) {
		t.Errorf("encoding error not in the access log: %s", &logs)
	}
}
