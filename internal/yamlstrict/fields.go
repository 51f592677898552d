package yamlstrict

import (
	"reflect"
	"sort"
	"strings"
	"sync"
)

// field is one YAML key of a struct: the index path to it through inlined
// structs, and its type.
type field struct {
	index []int
	typ   reflect.Type
}

// structInfo lists a struct's YAML keys following yaml.v3's rules: the tag's
// name or the lower-cased field name, ",inline" structs flattened, "-" and
// unexported fields skipped. An ",inline" map, which in yaml.v3 takes every
// undeclared key, is skipped too: it would defeat the point of this package.
type structInfo struct {
	fields map[string]field
	names  []string // sorted, for "known keys" hints
}

var structInfos sync.Map // reflect.Type -> *structInfo

func fieldsOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{fields: map[string]field{}}
	si.collect(t, nil)
	for name := range si.fields {
		si.names = append(si.names, name)
	}
	sort.Strings(si.names)
	structInfos.Store(t, si)
	return si
}

func (si *structInfo) collect(t reflect.Type, prefix []int) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		index := append(append([]int(nil), prefix...), i)
		if hasOpt(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				si.collect(ft, index)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, dup := si.fields[name]; !dup {
			si.fields[name] = field{index: index, typ: f.Type}
		}
	}
}

func hasOpt(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// fieldByIndex is reflect.Value.FieldByIndex, allocating nil pointers to
// inlined structs on the way.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for _, i := range index {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v
}
