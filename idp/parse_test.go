package idp

import "github.com/idledger/idledger/api/gateway"

// ParseRequest is what the REST transport does with an add body before the
// command validates it: gateway.ParseObject, the mapping of api/idp.go
// (name, providerOptions, the config's fields at the top level), then
// Template.Normalize and the name rule. The tests of this package were
// written against it when it was this package's own decoder.
func ParseRequest(kind Kind, body []byte) (string, Options, Config, error) {
	tpl := Template{Kind: kind}
	if kind.New == nil {
		return "", Options{}, nil, tpl.Normalize()
	}
	tpl.Config = kind.New()
	if err := decodeTemplate(&tpl, body); err != nil {
		return "", Options{}, nil, err
	}
	if err := tpl.Normalize(); err != nil {
		return "", Options{}, nil, err
	}
	if err := checkName(kind, tpl.Name); err != nil {
		return "", Options{}, nil, err
	}
	return tpl.Name, tpl.Options, tpl.Config, nil
}

// decodeTemplate is api's mapping of the wire names (api/idp.go,
// idpTemplate), which this package cannot import.
func decodeTemplate(tpl *Template, body []byte) error {
	obj, err := gateway.ParseObject(body, "IDP-json")
	if err != nil {
		return err
	}
	if tpl.Name, err = obj.String("name"); err != nil {
		return err
	}
	opts, err := obj.Object("providerOptions")
	if err != nil {
		return err
	}
	if err := opts.Into(&tpl.Options, "providerOptions."); err != nil {
		return err
	}
	return obj.Into(tpl.Config, "")
}
