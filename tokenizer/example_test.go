package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/clipfleet/clipfleet/tokenizer"
)

func Example() {
	// The daemon loads CLIP's bpe_simple_vocab_16e6.txt.gz or a
	// tokenizer.json the same way; this small WordLevel file ships with
	// the package's tests.
	tok, err := tokenizer.Load("testdata/wordlevel.json")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Encode("A robot near the dock."))
	// Framed with <|startoftext|> and <|endoftext|>, padded with 0.
	fmt.Println(tok.EncodeContext("A robot near the dock.", 10))
	// Output:
	// [3 9 21 6 14 23]
	// [1 3 9 21 6 14 23 2 0 0]
}
