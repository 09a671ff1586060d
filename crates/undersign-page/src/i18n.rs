//! The page's own words, in Fluent files (`locales/*.ftl`) embedded at compile time.
//!
//! Each language is one [`FluentBundle`] built once. A message missing from a translation
//! falls back to English, and a message missing from English to its id, so a gap in a
//! translation never breaks a page (the tests check there are none). Arguments are formatted
//! by Fluent (plural categories from CLDR: Belarusian and Russian have `one`, `few`, `many`);
//! the result is plain text, escaped by the page writer like any other text.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;
use thiserror::Error;
use unic_langid::LanguageIdentifier;

/// A language the page is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    En,
    /// Belarusian.
    Be,
    /// Russian.
    Ru,
}

/// Every language, in the order the page lists them.
pub const LANGS: [Lang; 3] = [Lang::En, Lang::Be, Lang::Ru];

impl Lang {
    /// The language's BCP 47 code: `en`, `be`, `ru`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Be => "be",
            Lang::Ru => "ru",
        }
    }

    /// The language's name in itself.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Be => "Беларуская",
            Lang::Ru => "Русский",
        }
    }

    /// The language with this code (`en`, `be`, `ru`; ASCII case ignored).
    pub fn from_code(code: &str) -> Option<Lang> {
        LANGS
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The decimal separator written in this language.
    pub fn decimal_separator(self) -> char {
        match self {
            Lang::En => '.',
            Lang::Be | Lang::Ru => ',',
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../locales/en.ftl"),
            Lang::Be => include_str!("../locales/be.ftl"),
            Lang::Ru => include_str!("../locales/ru.ftl"),
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Why an embedded translation file could not be loaded (a bug in this crate's files: the
/// tests load every one).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum I18nError {
    /// The language code does not parse as a language identifier.
    #[error("language code {0:?} is not a language identifier")]
    LangId(String),
    /// The `.ftl` file has syntax errors.
    #[error("locales/{lang}.ftl does not parse: {errors}")]
    Syntax {
        /// The language.
        lang: Lang,
        /// The parser's errors.
        errors: String,
    },
    /// A message is defined twice.
    #[error("locales/{lang}.ftl defines a message twice: {errors}")]
    Duplicate {
        /// The language.
        lang: Lang,
        /// Fluent's errors.
        errors: String,
    },
}

/// The messages of one language.
pub struct Messages {
    lang: Lang,
    bundle: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messages")
            .field("lang", &self.lang)
            .finish()
    }
}

impl Messages {
    /// Parses `lang`'s embedded file.
    pub fn load(lang: Lang) -> Result<Self, I18nError> {
        let id: LanguageIdentifier = lang
            .code()
            .parse()
            .map_err(|_| I18nError::LangId(lang.code().to_owned()))?;
        let resource = FluentResource::try_new(lang.source().to_owned()).map_err(|(_, e)| {
            I18nError::Syntax {
                lang,
                errors: format!("{e:?}"),
            }
        })?;
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // The output is text for an HTML page, escaped there; no bidi isolation marks.
        bundle.set_use_isolating(false);
        bundle
            .add_resource(resource)
            .map_err(|e| I18nError::Duplicate {
                lang,
                errors: format!("{e:?}"),
            })?;
        Ok(Self { lang, bundle })
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Whether this language defines message `id`.
    pub fn has(&self, id: &str) -> bool {
        self.bundle
            .get_message(id)
            .and_then(|m| m.value())
            .is_some()
    }

    /// Message `id` formatted with `args`, or `None` if this language lacks it.
    pub fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
        let pattern = self.bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, args, &mut errors);
        Some(text.into_owned())
    }
}

/// The messages of `lang`, loaded once. An embedded file that does not load gives `None`
/// (then English, then message ids are shown).
pub fn messages(lang: Lang) -> Option<&'static Messages> {
    static EN: OnceLock<Option<Messages>> = OnceLock::new();
    static BE: OnceLock<Option<Messages>> = OnceLock::new();
    static RU: OnceLock<Option<Messages>> = OnceLock::new();
    let cell = match lang {
        Lang::En => &EN,
        Lang::Be => &BE,
        Lang::Ru => &RU,
    };
    cell.get_or_init(|| Messages::load(lang).ok()).as_ref()
}

/// Words in one language, with English as the fallback.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    lang: Lang,
}

impl Words {
    /// Words in `lang`.
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The language.
    pub fn lang(self) -> Lang {
        self.lang
    }

    /// Message `id` without arguments.
    pub fn get(self, id: &str) -> String {
        self.format(id, None)
    }

    /// Message `id` with `args` as `(name, value)` pairs.
    pub fn with(self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Num(n) => fluent.set(*name, FluentValue::from(*n)),
                Arg::Str(s) => fluent.set(*name, FluentValue::from(*s)),
            }
        }
        self.format(id, Some(&fluent))
    }

    fn format(self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        [self.lang, Lang::En]
            .into_iter()
            .filter_map(messages)
            .find_map(|m| m.format(id, args))
            .unwrap_or_else(|| id.to_owned())
    }
}

/// A message argument.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// A number (selects plural forms).
    Num(u64),
    /// Text.
    Str(&'a str),
}
