package labels

import (
	"reflect"
	"testing"
)

func FuzzParseVocabulary(f *testing.F) {
	good, _ := (&Vocabulary{Templates: []string{"a photo of a {}."}, Labels: []Label{
		{Name: "circle"}, {Name: "triángulo", Templates: []string{"una foto de un {}."}}, {Name: "三角形"},
	}}).Marshal()
	for _, s := range []string{string(good), "", "version: 1\nlabels: []\n", "version: 1\nlables: x\n",
		"version: 1\nlabels: [{name: a}, {name: A}]\n", "version: 1\nlabels: [{name: &x a}, {name: *x}]\n",
		"version: 1\nlabels:\n  - name: \"\\xff\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseVocabulary(data)
		if err != nil {
			return
		}
		// Whatever parses must survive a round trip unchanged.
		out, err := v.Marshal()
		if err != nil {
			t.Fatalf("parsed vocabulary does not marshal: %v", err)
		}
		w, err := ParseVocabulary(out)
		if err != nil {
			t.Fatalf("marshalled vocabulary does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("round trip changed the vocabulary:\n%#v\n%#v", v, w)
		}
	})
}

func FuzzDecodeEmbeddings(f *testing.F) {
	e := sampleEmbeddings()
	bin, _ := e.Encode(FormatBinary)
	js, _ := sampleEmbeddings().Encode(FormatJSON)
	f.Add(bin)
	f.Add(js)
	f.Add(bin[:len(bin)/2])
	f.Add(encodeBinary(kindCache, "m", 2, []binEntry{{name: "a", vec: []float32{1, 0}}}))
	f.Add([]byte(`{"format":"clipfleet-label-embeddings/v1","model_id":"m","dim":1,"labels":[{"name":"a","embedding":[1e39]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The cache decoder shares the container; it must not panic either.
		decodeBinary(data, kindCache)
		got, err := DecodeEmbeddings(data)
		if err != nil {
			return
		}
		for _, format := range []string{FormatJSON, FormatBinary} {
			out, err := got.Encode(format)
			if err != nil {
				t.Fatalf("decoded embeddings do not encode as %s: %v", format, err)
			}
			again, err := DecodeEmbeddings(out)
			if err != nil || again.ModelID != got.ModelID || again.Dim != got.Dim || len(again.Labels) != len(got.Labels) {
				t.Fatalf("%s round trip: %v", format, err)
			}
		}
	})
}
