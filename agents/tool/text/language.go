package text

import (
	"fmt"
	"strings"
)

// language is a language Amazon Translate knows: its code there, its
// English name, and other names and codes people use for it.
type language struct {
	code, name string
	aliases    []string
}

// languages returns the languages of Amazon Translate
// (https://docs.aws.amazon.com/translate/latest/dg/what-is-languages.html).
// The agent's model is held to the same list, so an agent behaves alike
// whichever engine translates.
func languages() []language {
	return []language{
		{"af", "Afrikaans", nil}, {"sq", "Albanian", nil}, {"am", "Amharic", nil}, {"ar", "Arabic", nil},
		{"hy", "Armenian", nil}, {"az", "Azerbaijani", nil}, {"bn", "Bengali", []string{"bangla"}},
		{"bs", "Bosnian", nil}, {"bg", "Bulgarian", nil}, {"ca", "Catalan", nil},
		{"zh", "Chinese (Simplified)", []string{"chinese", "simplified chinese", "mandarin", "zh-cn", "zh-sg", "zh-hans", "zh-hans-cn"}},
		{"zh-TW", "Chinese (Traditional)", []string{"traditional chinese", "zh-hant", "zh-hk", "zh-mo", "zh-hant-tw", "zh-hant-hk"}},
		{"hr", "Croatian", nil}, {"cs", "Czech", nil}, {"da", "Danish", nil}, {"fa-AF", "Dari", []string{"prs"}},
		{"nl", "Dutch", []string{"flemish"}}, {"en", "English", nil}, {"et", "Estonian", nil},
		{"fa", "Persian", []string{"farsi", "farsi persian", "persian farsi"}},
		{"tl", "Filipino", []string{"tagalog", "fil"}}, {"fi", "Finnish", nil}, {"fr", "French", nil},
		{"fr-CA", "French (Canada)", []string{"canadian french", "french canadian"}},
		{"ka", "Georgian", nil}, {"de", "German", nil}, {"el", "Greek", nil}, {"gu", "Gujarati", nil},
		{"ht", "Haitian Creole", []string{"haitian"}}, {"ha", "Hausa", nil}, {"he", "Hebrew", []string{"iw"}},
		{"hi", "Hindi", nil}, {"hu", "Hungarian", nil}, {"is", "Icelandic", nil}, {"id", "Indonesian", nil},
		{"ga", "Irish", []string{"irish gaelic"}}, {"it", "Italian", nil}, {"ja", "Japanese", nil}, {"kn", "Kannada", nil},
		{"kk", "Kazakh", nil}, {"ko", "Korean", nil}, {"lv", "Latvian", nil}, {"lt", "Lithuanian", nil},
		{"mk", "Macedonian", nil}, {"ms", "Malay", nil}, {"ml", "Malayalam", nil}, {"mt", "Maltese", nil},
		{"mr", "Marathi", nil}, {"mn", "Mongolian", nil},
		{"no", "Norwegian", []string{"norwegian bokmal", "norwegian bokmål", "bokmal", "bokmål", "nb"}},
		{"ps", "Pashto", nil}, {"pl", "Polish", nil},
		{"pt", "Portuguese (Brazil)", []string{"portuguese", "brazilian portuguese", "pt-br"}},
		{"pt-PT", "Portuguese (Portugal)", []string{"european portuguese"}},
		{"pa", "Punjabi", nil}, {"ro", "Romanian", nil}, {"ru", "Russian", nil}, {"sr", "Serbian", nil},
		{"si", "Sinhala", []string{"sinhalese"}}, {"sk", "Slovak", nil}, {"sl", "Slovenian", []string{"slovene"}},
		{"so", "Somali", nil}, {"es", "Spanish", []string{"castilian", "es-es"}},
		{"es-MX", "Spanish (Mexico)", []string{"mexican spanish"}},
		{"sw", "Swahili", nil}, {"sv", "Swedish", nil}, {"ta", "Tamil", nil}, {"te", "Telugu", nil}, {"th", "Thai", nil},
		{"tr", "Turkish", nil}, {"uk", "Ukrainian", nil}, {"ur", "Urdu", nil}, {"uz", "Uzbek", nil},
		{"vi", "Vietnamese", nil}, {"cy", "Welsh", nil},
	}
}

// languageExamples are the examples an unknown language's error gives.
const languageExamples = `"French" or "fr", "German" or "de", "Spanish (Mexico)" or "es-MX", ` +
	`"Chinese (Traditional)" or "zh-TW", "Japanese" or "ja", "pt-BR"`

// findLanguage returns the language that s names: a code ("fr", "pt-BR",
// "en_US"), an English name ("French", "Chinese (Traditional)") or a
// common other name ("Farsi", "Brazilian Portuguese"), in any case.
func findLanguage(s string) (language, error) {
	key := languageKey(s)
	if key == "" {
		return language{}, fmt.Errorf("the language is empty: use a name or code, like %s", languageExamples)
	}
	all := languages()
	find := func(key string) (language, bool) {
		for _, l := range all {
			if key == strings.ToLower(l.code) || key == languageKey(l.name) {
				return l, true
			}
			for _, a := range l.aliases {
				if key == a {
					return l, true
				}
			}
		}
		return language{}, false
	}
	if l, ok := find(key); ok {
		return l, nil
	}
	// A regional code falls back to its language: "en-us" is "en".
	if base, _, ok := strings.Cut(key, "-"); ok && len(base) >= 2 && len(base) <= 3 {
		if l, ok := find(base); ok {
			return l, nil
		}
	}
	return language{}, fmt.Errorf("unknown language %q: use a name or code, like %s", strings.TrimSpace(s), languageExamples)
}

// languageKey is s lowercased, with "_" as "-", parentheses and commas
// dropped and spaces collapsed: "Chinese (Traditional)" is "chinese
// traditional", "pt_BR" is "pt-br".
func languageKey(s string) string {
	s = strings.NewReplacer("_", "-", "(", " ", ")", " ", ",", " ").Replace(strings.ToLower(s))
	return strings.Join(strings.Fields(s), " ")
}
