//! The customer's languages: the message catalogues in `locales/*.ftl` (Fluent), built into the
//! binary, and how money reads in each language.
//!
//! It owns the words and nothing else: which screen to show is the vend core's business, which
//! words a screen takes is the `display` module's. It must not import anything but `money`.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Serialize, Serializer};

use crate::money::Cents;

/// A language the kiosk speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Language {
    /// English (the fallback for anything a catalogue lacks).
    #[default]
    English,
    /// German.
    German,
    /// French.
    French,
    /// Japanese.
    Japanese,
}

impl Language {
    /// Every language shipped, in the order the language button offers them.
    pub const ALL: [Language; 4] = [
        Language::English,
        Language::German,
        Language::French,
        Language::Japanese,
    ];

    /// The ISO 639-1 code used in `machine.toml`, `surprises.toml` and the page's URLs.
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::German => "de",
            Language::French => "fr",
            Language::Japanese => "ja",
        }
    }

    /// The language's name in itself, for the language button.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::German => "Deutsch",
            Language::French => "Français",
            Language::Japanese => "日本語",
        }
    }

    /// The language with this code (`de`, or a tag such as `de-AT`), if it is shipped.
    pub fn from_code(code: &str) -> Option<Language> {
        let primary = code.split(['-', '_']).next().unwrap_or_default();
        Self::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The codes of every shipped language, for error messages.
    pub fn codes() -> String {
        Self::ALL.map(Language::code).join(", ")
    }

    /// The language whose code is exactly `code`, as a config file must name it, or why not.
    pub fn from_config(code: &str) -> Result<Language, String> {
        Self::ALL
            .into_iter()
            .find(|l| l.code() == code)
            .ok_or_else(|| {
                format!(
                    "the kiosk has no language `{}`: it speaks {}",
                    code.chars().take(20).collect::<String>(),
                    Self::codes()
                )
            })
    }

    fn source(self) -> &'static str {
        match self {
            Language::English => include_str!("../locales/en.ftl"),
            Language::German => include_str!("../locales/de.ftl"),
            Language::French => include_str!("../locales/fr.ftl"),
            Language::Japanese => include_str!("../locales/ja.ftl"),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// Arguments for a message: `$name` and its value.
pub type Args<'a> = [(&'a str, Arg<'a>)];

/// One argument's value.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// Text, as it is.
    Text(&'a str),
    /// A count (chooses plural forms).
    Count(u64),
}

/// The catalogues of every shipped language.
pub struct Catalogue {
    bundles: Vec<(Language, FluentBundle<FluentResource>)>,
}

impl fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalogue").finish_non_exhaustive()
    }
}

/// The shipped catalogues, parsed once.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(Catalogue::shipped);
    &CATALOGUE
}

impl Catalogue {
    /// Parse the catalogues built into the binary. A syntax error in one (the tests make sure
    /// there is none) loses only the messages it spoils: those fall back to English, then to
    /// their id.
    pub fn shipped() -> Catalogue {
        let bundles = Language::ALL
            .into_iter()
            .map(|lang| {
                let resource = match FluentResource::try_new(lang.source().to_string()) {
                    Ok(r) => r,
                    Err((r, _)) => r,
                };
                let id = lang.code().parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // Plain text out: no Unicode isolation marks around filled-in values.
                bundle.set_use_isolating(false);
                let _ = bundle.add_resource(resource);
                (lang, bundle)
            })
            .collect();
        Catalogue { bundles }
    }

    fn bundle(&self, lang: Language) -> Option<&FluentBundle<FluentResource>> {
        self.bundles
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, b)| b)
    }

    /// Message `id` in `lang` with `args` filled in; English if `lang` lacks it, the id itself
    /// if English does too.
    pub fn text(&self, lang: Language, id: &str, args: &Args<'_>) -> String {
        self.try_text(lang, id, args)
            .or_else(|| self.try_text(Language::English, id, args))
            .unwrap_or_else(|| id.to_string())
    }

    /// Message `id` in `lang` exactly, if the catalogue has it and it formats without errors.
    pub fn try_text(&self, lang: Language, id: &str, args: &Args<'_>) -> Option<String> {
        let bundle = self.bundle(lang)?;
        let pattern = bundle.get_message(id)?.value()?;
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            let value = match value {
                Arg::Text(t) => FluentValue::from(*t),
                Arg::Count(n) => FluentValue::from(*n),
            };
            fluent_args.set(*name, value);
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        errors.is_empty().then(|| Cow::into_owned(text))
    }

    /// `amount` as it reads in `lang`, with the machine's currency `symbol` ("€1.50", "1,50 €").
    pub fn money(&self, lang: Language, amount: Cents, symbol: &str) -> String {
        let separator = self.text(lang, "decimal-separator", &[]);
        let cents = amount.get();
        let number = format!("{}{separator}{:02}", cents / 100, cents % 100);
        self.text(
            lang,
            "money",
            &[
                ("symbol", Arg::Text(symbol)),
                ("amount", Arg::Text(&number)),
            ],
        )
    }

    /// Every message id of `lang`'s catalogue.
    pub fn ids(&self, lang: Language) -> Vec<String> {
        lang.source()
            .lines()
            .filter_map(|line| {
                let (id, _) = line.split_once(" =")?;
                let id = id.trim_end();
                let starts_well = id.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
                let plain = id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
                (starts_well && plain).then(|| id.to_string())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_parses_and_has_every_english_message() {
        for lang in Language::ALL {
            let parsed = FluentResource::try_new(lang.source().to_string());
            assert!(parsed.is_ok(), "{lang}: {:?}", parsed.err().map(|e| e.1));
        }
        let cat = catalogue();
        let english = cat.ids(Language::English);
        assert!(english.len() > 50, "{english:?}");
        for lang in Language::ALL {
            let ids = cat.ids(lang);
            for id in &english {
                assert!(ids.contains(id), "{lang} lacks `{id}`");
            }
            for id in &ids {
                assert!(
                    english.contains(id),
                    "{lang} has `{id}`, which English lacks"
                );
            }
        }
    }

    #[test]
    fn every_message_formats_in_every_language_with_its_arguments() {
        let cat = catalogue();
        let args: &Args<'_> = &[
            ("product", Arg::Text("Cola")),
            ("price", Arg::Text("€1.50")),
            ("missing", Arg::Text("€0.50")),
            ("credit", Arg::Text("€1.00")),
            ("funds", Arg::Text("€5.00")),
            ("amount", Arg::Text("€1.50")),
            ("refunded", Arg::Text("€1.50")),
            ("attempt", Arg::Count(2)),
            ("of", Arg::Count(3)),
            ("count", Arg::Count(2)),
            ("coin", Arg::Text("€2.00")),
            ("reason", Arg::Text("sold out")),
            ("symbol", Arg::Text("€")),
            ("n", Arg::Count(5)),
            ("prizes", Arg::Text("A flower, Light show")),
        ];
        for lang in Language::ALL {
            for id in cat.ids(lang) {
                let text = cat.try_text(lang, &id, args);
                assert!(
                    text.as_deref().is_some_and(|t| !t.trim().is_empty()),
                    "{lang} `{id}` does not format: {text:?}"
                );
            }
        }
    }

    #[test]
    fn money_reads_as_each_language_writes_it() {
        let cat = catalogue();
        let m = |lang| cat.money(lang, Cents::new(150), "€");
        assert_eq!(m(Language::English), "€1.50");
        // A no-break space keeps the amount and the symbol on one line.
        assert_eq!(m(Language::German), "1,50\u{a0}€");
        assert_eq!(m(Language::French), "1,50\u{a0}€");
        assert_eq!(m(Language::Japanese), "€1.50");
        assert_eq!(
            cat.money(Language::German, Cents::new(5), "€"),
            "0,05\u{a0}€"
        );
    }

    #[test]
    fn plurals_follow_the_language() {
        let cat = catalogue();
        let returned = |lang, n| cat.text(lang, "coins-returned", &[("count", Arg::Count(n))]);
        assert_eq!(returned(Language::English, 1), "One coin returned");
        assert_eq!(returned(Language::English, 3), "3 coins returned");
        assert_eq!(returned(Language::German, 3), "3 Münzen zurückgegeben");
        assert_eq!(returned(Language::Japanese, 3), "3 枚返却しました");
    }

    #[test]
    fn codes_and_tags_name_languages_and_nothing_else_does() {
        assert_eq!(Language::from_code("de"), Some(Language::German));
        assert_eq!(Language::from_code("de-AT"), Some(Language::German));
        assert_eq!(Language::from_code("JA"), Some(Language::Japanese));
        assert_eq!(Language::from_code("xx"), None);
        assert_eq!(Language::from_code(""), None);
        let cat = catalogue();
        assert_eq!(cat.text(Language::German, "no-such-id", &[]), "no-such-id");
    }
}
