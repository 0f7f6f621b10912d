package projection

import (
	"strconv"
	"strings"
	"sync"

	jsonv1 "github.com/go-json-experiment/json/v1"
)

// opKind is what a Shape does to its table.
type opKind uint8

const (
	opInsert opKind = iota + 1 // add one row; fails if its key exists
	opUpsert                   // add one row, or replace the row with its key
	opUpdate                   // set columns of the rows matching WHERE
	opDelete                   // remove the rows matching WHERE
)

// A Shape is the form of a statement on one projection table. Reducers build
// their Statements from shapes instead of writing SQL: the live path runs each
// statement as it is, and a rebuild recognises the statements that change one
// row by its primary key and applies a whole batch of them as a few set-based
// statements (see batch.go). Build shapes once, at package level.
type Shape struct {
	op    opKind
	table string   // logical name
	cols  []string // Insert, Upsert: the columns given; Update: the columns set
	where []string // Update, Delete: equality conditions, in argument order
	key   []string // Upsert: the conflict target (the primary key)

	sql sync.Map // physical table name -> statement text
}

// Insert adds a row with the given columns (the others take their default).
// Arguments: one per column.
func Insert(table string, cols ...string) *Shape {
	return &Shape{op: opInsert, table: table, cols: cols}
}

// Upsert adds a row or, when a row with the same key exists, replaces its
// values. key is the table's primary key. List every column of the table: a
// rebuild applies an upsert as the replacement of the whole row (an upsert
// that leaves a column out runs one by one instead). Arguments: one per
// column.
func Upsert(table string, key []string, cols ...string) *Shape {
	return &Shape{op: opUpsert, table: table, cols: cols, key: key}
}

// Update sets columns of the rows where every where column equals its
// argument. Arguments: the set values, then the where values.
func Update(table string, set []string, where ...string) *Shape {
	return &Shape{op: opUpdate, table: table, cols: set, where: where}
}

// Delete removes the rows where every where column equals its argument.
// Arguments: the where values.
func Delete(table string, where ...string) *Shape {
	return &Shape{op: opDelete, table: table, where: where}
}

// Stmt returns the statement of this shape on t's physical table.
func (s *Shape) Stmt(t Tables, args ...any) Statement {
	phys := t.T(s.table)
	q, ok := s.sql.Load(phys)
	if !ok {
		q, _ = s.sql.LoadOrStore(phys, s.render(phys))
	}
	return Statement{SQL: q.(string), Args: args, shape: s}
}

func (s *Shape) render(table string) string {
	var b strings.Builder
	n := 0
	param := func() string { n++; return "$" + strconv.Itoa(n) }
	switch s.op {
	case opInsert, opUpsert:
		b.WriteString("INSERT INTO " + ident(table) + " (" + identList(s.cols) + ") VALUES (")
		for i := range s.cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(param())
		}
		b.WriteString(")")
		if s.op == opUpsert {
			b.WriteString(" ON CONFLICT (" + identList(s.key) + ") DO UPDATE SET ")
			first := true
			for _, c := range s.cols {
				if contains(s.key, c) {
					continue
				}
				if !first {
					b.WriteString(", ")
				}
				first = false
				b.WriteString(ident(c) + " = EXCLUDED." + ident(c))
			}
		}
	case opUpdate:
		b.WriteString("UPDATE " + ident(table) + " SET ")
		for i, c := range s.cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(ident(c) + " = " + param())
		}
		s.whereClause(&b, param)
	case opDelete:
		b.WriteString("DELETE FROM " + ident(table))
		s.whereClause(&b, param)
	}
	return b.String()
}

func (s *Shape) whereClause(b *strings.Builder, param func() string) {
	for i, c := range s.where {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		b.WriteString(ident(c) + " = " + param())
	}
}

func identList(cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = ident(c)
	}
	return strings.Join(out, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// jsonText is v as JSON text, for a jsonb column.
func jsonText(v any) string {
	b, err := jsonv1.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}
