// Package tokenizer turns text into the token ids CLIP's text encoder takes,
// in pure Go, matching OpenAI's reference tokenizer (simple_tokenizer.py) id
// for id.
//
// # Vocabulary files
//
// [Load] detects the format from the content, not the file name:
//
//   - OpenAI's merge list, bpe_simple_vocab_16e6.txt.gz: gzip (or plain)
//     text whose first line is a "#version" header, then one "left right"
//     merge per line. As CLIP does, only the first 48,894 merges are used;
//     the vocabulary is the 256 byte symbols, the same with "</w>", one
//     concatenation per merge, then <|startoftext|> and <|endoftext|>
//     (49,408 ids).
//   - A Hugging Face tokenizer.json (optionally gzip-compressed) with a
//     BPE model as CLIP exports have it (byte-level symbols, "</w>"
//     end_of_word_suffix), or a WordLevel model (a word → id map plus an
//     unk_token).
//
// # BPE: the CLIP pipeline
//
// For BPE vocabularies, from either format, text goes through CLIP's
// pipeline whatever the tokenizer.json's normalizer and pre_tokenizer
// sections say:
//
//  1. Invalid UTF-8 is repaired: each maximal ill-formed byte sequence
//     becomes one U+FFFD, as Python's bytes.decode("utf-8", "replace")
//     does. Encode never fails and never panics.
//  2. NFC normalisation. (The reference runs ftfy.fix_text, whose only
//     effect on ordinary text is NFC; its mojibake repairs are not
//     reproduced.)
//  3. HTML character references are resolved twice, exactly as Python's
//     html.unescape: named references with and without ';' ("&amp",
//     "&notit;" → "¬it;"), decimal and hex references of any length.
//  4. Runs of whitespace as Python's \s defines it (which, unlike
//     unicode.IsSpace, includes U+001C..U+001F) become one space; the text
//     is trimmed.
//  5. Lower-casing as Python's str.lower(): unicode.ToLower plus
//     "İ" → "i̇" and the final-sigma rule.
//  6. Pre-tokenisation with CLIP's pattern
//     <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//     with the regex module's case-insensitive semantics. Literal
//     "<|startoftext|>" and "<|endoftext|>" in the text therefore become
//     the special ids, as in the reference.
//  7. Each piece's UTF-8 bytes are mapped to GPT-2's byte symbols, the last
//     one with "</w>", and merged by rank.
//
// Results of step 7 are cached per word (bounded), so repeated vocabulary
// costs a map lookup.
//
// Known differences from the reference: ftfy's repairs beyond NFC (see
// step 2), and characters assigned after Unicode 15.0, the version of Go's
// unicode tables, which Python with newer tables may classify as letters
// where this package sees unassigned code points.
//
// # WordLevel
//
// For WordLevel vocabularies the text is repaired and NFC-normalised as
// above, split at occurrences of the file's added_tokens (matched
// literally in the raw text, before any cleaning), whitespace-collapsed and
// lower-cased (always, whatever the file's normalizer says; no HTML
// unescaping), split on whitespace, then by the file's pre_tokenizer:
// Whitespace (the default: runs of word characters and runs of other
// characters), WhitespaceSplit, Punctuation, BertPreTokenizer, or a
// Sequence of these. Words missing from the vocabulary map to unk_token
// ("<unk>" by default), which must exist.
//
// # Sequences of fixed length
//
// [Tokenizer.EncodeContext] frames the ids with start and end tokens,
// truncates and pads as CLIP's tokenize does. The start and end tokens
// are 49406 and 49407 for OpenAI's merge list; for a tokenizer.json they
// come from its post_processor (TemplateProcessing, RobertaProcessing,
// BertProcessing or a Sequence of them), or, without one, from the first
// pair found in the vocabulary among <|startoftext|>/<|endoftext|>,
// [CLS]/[SEP] and <s>/</s>; with none of these the sequence is not framed.
// The pad id is the file's padding.pad_id, else 0.
package tokenizer
