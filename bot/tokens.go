package bot

import (
	"strings"
	"unicode"
)

// Token is one word of typed command text. Quoted is true when the word came
// from a quoted group ("Plant 1000 trees"), which makes keywords plain text.
type Token struct {
	Text   string
	Quoted bool
}

// IsWord reports whether t is the unquoted keyword w, ignoring case.
func (t Token) IsWord(w string) bool {
	return !t.Quoted && strings.EqualFold(t.Text, w)
}

// quotePairs maps an opening quote to the closing quotes it accepts. Straight
// and curly quotes are accepted, and phones mix them.
var quotePairs = map[rune]string{
	'"':      "\"”“",
	'\'':     "'’‘",
	'“':      "”“\"",
	'”':      "”“\"",
	'‘':      "’‘'",
	'’':      "’‘'",
	'\u00ab': "\u00bb",
}

// Tokenize splits text into words on white space; straight or curly quotes
// group words into one quoted token. An unterminated quote runs to the end of
// the text. A single quote inside a word (don't) is part of the word.
func Tokenize(text string) []Token {
	var toks []Token
	rs := []rune(text)
	for i := 0; i < len(rs); {
		r := rs[i]
		if unicode.IsSpace(r) {
			i++
			continue
		}
		if closers, ok := quotePairs[r]; ok {
			j := i + 1
			for j < len(rs) && !strings.ContainsRune(closers, rs[j]) {
				j++
			}
			toks = append(toks, Token{Text: strings.TrimSpace(string(rs[i+1 : min(j, len(rs))])), Quoted: true})
			i = j + 1
			continue
		}
		j := i
		for j < len(rs) && !unicode.IsSpace(rs[j]) {
			j++
		}
		toks = append(toks, Token{Text: string(rs[i:j])})
		i = j
	}
	return toks
}

// JoinTokens joins token texts with single spaces.
func JoinTokens(toks []Token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.Text
	}
	return strings.Join(parts, " ")
}
