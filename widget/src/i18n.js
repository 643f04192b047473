// The widget's own interface text (the bot's answers come from domain.yml).
// The strings live in strings.json (one object per language, the same keys in each,
// checked by tests/test_widget_server.py). Keep the privacy notice in step with
// docs/privacy.md.
import STRINGS_JSON from "./strings.json";

// The UI languages, in the order the switcher lists them; the first is the default.
export const LANGUAGES = ["pl", "en", "uk", "ru"];

// Each language's name in that language (the switcher shows it with lang=code).
export const LANGUAGE_NAMES = {
  pl: "Polski",
  en: "English",
  uk: "Українська",
  ru: "Русский",
};

export const STRINGS = Object.fromEntries(
  LANGUAGES.map((code) => [code, STRINGS_JSON[code]]),
);

// A supported language code for `value` (e.g. "uk-UA" -> "uk"), else the default.
export function supported(value) {
  const code = String(value || "")
    .slice(0, 2)
    .toLowerCase();
  return LANGUAGES.includes(code) ? code : LANGUAGES[0];
}

export function pick(lang) {
  return STRINGS[lang] || STRINGS[LANGUAGES[0]];
}
