package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/clipfleet/clipfleet/tokenizer"
)

func init() {
	register(command{
		name:    "tokenize",
		summary: "print the CLIP token ids of each stdin line as a JSON array",
		run:     runTokenize,
	})
}

// runTokenize is a debugging aid: it shows exactly which ids the daemon
// would feed the text encoder for a prompt, so a surprising match can be
// traced to tokenisation or ruled out.
func runTokenize(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge tokenize", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	vocab := fs.String("vocab", "", "vocabulary `FILE`: CLIP's bpe_simple_vocab_16e6.txt.gz or a tokenizer.json\n(default $CLIPFLEET_VOCAB)")
	n := fs.Int("context", 0, "frame each line with the start and end tokens, truncate and pad to `N` ids\nas CLIP's tokenize does (CLIP's text encoders take 77); default: raw ids")
	fs.Usage = func() {
		fmt.Fprint(env.stderr, "usage: edge tokenize [--vocab FILE] [--context N] < lines\n\n"+
			"Reads UTF-8 text, one prompt per line, and prints one JSON array of token ids per line.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "edge tokenize: unexpected argument %q (text is read from stdin)\n", fs.Arg(0))
		return 2
	}
	contextSet := false
	fs.Visit(func(f *flag.Flag) { contextSet = contextSet || f.Name == "context" })
	if contextSet && *n < 1 {
		fmt.Fprintf(env.stderr, "edge tokenize: --context must be at least 1, got %d\n", *n)
		return 2
	}
	path := *vocab
	if path == "" && env.getenv != nil {
		path = env.getenv("CLIPFLEET_VOCAB")
	}
	if path == "" {
		fmt.Fprintln(env.stderr, "edge tokenize: no vocabulary: pass --vocab FILE (bpe_simple_vocab_16e6.txt.gz or tokenizer.json) or set CLIPFLEET_VOCAB")
		return 2
	}
	tok, err := tokenizer.Load(path)
	if err != nil {
		fmt.Fprintf(env.stderr, "edge tokenize: %v\n", err)
		return 1
	}

	in := bufio.NewReaderSize(env.stdin, 64<<10)
	out := bufio.NewWriter(env.stdout)
	var buf []byte
	for ctx.Err() == nil {
		// ReadBytes rather than a Scanner: a line may be any length.
		line, readErr := in.ReadBytes('\n')
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			out.Flush()
			fmt.Fprintf(env.stderr, "edge tokenize: reading stdin: %v\n", readErr)
			return 1
		}
		if len(line) > 0 {
			text := string(bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r")))
			var ids []int32
			if contextSet {
				ids = tok.EncodeContext(text, *n)
			} else {
				ids = tok.Encode(text)
			}
			buf = appendJSONInts(buf[:0], ids)
			if _, err := out.Write(buf); err != nil {
				fmt.Fprintf(env.stderr, "edge tokenize: writing: %v\n", err)
				return 1
			}
		}
		if readErr != nil { // io.EOF
			break
		}
		// Flush whenever no more input is buffered, so an interactive
		// session (or a pipe fed line by line) sees each answer at once.
		if in.Buffered() == 0 {
			if err := out.Flush(); err != nil {
				fmt.Fprintf(env.stderr, "edge tokenize: writing: %v\n", err)
				return 1
			}
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(env.stderr, "edge tokenize: writing: %v\n", err)
		return 1
	}
	if ctx.Err() != nil {
		fmt.Fprintf(env.stderr, "edge tokenize: %v\n", context.Cause(ctx))
		return 1
	}
	return 0
}

// appendJSONInts writes ids as a JSON array and a newline; an empty line
// gives "[]", never "null".
func appendJSONInts(dst []byte, ids []int32) []byte {
	dst = append(dst, '[')
	for i, id := range ids {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(dst, int64(id), 10)
	}
	return append(dst, ']', '\n')
}
