//! One JSON object read for the fields a document needs: their values borrowed from the line
//! where they hold no escape, every other value checked as JSON and dropped. Which values a
//! document takes is [`super::document`]'s call.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// The values of the fields `names` in the JSON object `line`, by index (None for a field the
/// object lacks), or None when `line` is not one JSON object (or nests deeper than 128 levels).
pub(super) fn read<'a>(line: &'a str, names: &[String]) -> Option<Vec<Option<Slot<'a>>>> {
    let mut de = serde_json::Deserializer::from_str(line);
    let slots = Record(names).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(slots)
}

/// A field's value, as far as a document needs it.
#[derive(Clone)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(super) enum Slot<'a> {
    Null,
    Str(Cow<'a, str>),
    /// An integer that fits 64 bits (signed or not); larger ones arrive as floats: `Other`.
    Int(i128),
    Other,
}

/// A record (a JSON object): the values of the fields named, by index (the last of repeated
/// keys wins, as in Python's json); every other value is checked as JSON and skipped
/// ([`Skip`]).
struct Record<'f>(&'f [String]);

impl<'de> DeserializeSeed<'de> for Record<'_> {
    type Value = Vec<Option<Slot<'de>>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Record<'_> {
    type Value = Vec<Option<Slot<'de>>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut slots = vec![None; self.0.len()];
        while let Some(Key(key)) = map.next_key()? {
            if let Some(i) = self.0.iter().position(|n| *n == key) {
                slots[i] = Some(map.next_value()?);
            } else {
                map.next_value::<Skip>()?;
            }
        }
        Ok(slots)
    }
}

/// An object key, borrowed from the line unless it holds an escape.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor).map(Key)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Slot<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SlotVisitor)
    }
}

struct SlotVisitor;

impl<'de> Visitor<'de> for SlotVisitor {
    type Value = Slot<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Slot::Null)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Slot::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Slot::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Slot::Int(i128::from(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Slot::Int(i128::from(v)))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Slot::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Slot::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Slot::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Slot::Other)
    }
}

/// A value parsed and dropped. Not `serde::de::IgnoredAny`: `serde_json` skips those without
/// its nesting limit, and a line nested deeper than Python's json can read must be declined
/// (Python's reader reports it); parsed as any value, nesting past 128 levels is an error.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["text".into(), "id".into()]
    }

    fn text(s: &str) -> Slot<'_> {
        Slot::Str(Cow::Borrowed(s))
    }

    #[test]
    fn named_values_by_index_and_the_last_of_repeated_keys_wins_as_in_python() {
        let line = r#"{"id":1,"text":"a","x":[true,{"y":null}],"text":"b","id":"z"}"#;
        assert_eq!(
            read(line, &names()),
            Some(vec![Some(text("b")), Some(text("z"))])
        );
        let missing = read(r#"{"id":null}"#, &names());
        assert_eq!(missing, Some(vec![None, Some(Slot::Null)]));
    }

    #[test]
    fn integers_of_64_bits_are_integers_and_larger_ones_are_not() {
        let slots = |line| read(line, &names()).unwrap().remove(1);
        assert_eq!(
            slots(r#"{"id":-9223372036854775808}"#),
            Some(Slot::Int(i64::MIN.into()))
        );
        assert_eq!(
            slots(r#"{"id":18446744073709551615}"#),
            Some(Slot::Int(u64::MAX.into()))
        );
        assert_eq!(slots(r#"{"id":18446744073709551616}"#), Some(Slot::Other));
        assert_eq!(slots(r#"{"id":1.0}"#), Some(Slot::Other));
    }

    #[test]
    fn escaped_keys_name_their_field_and_escaped_strings_are_decoded() {
        let slots = read(r#"{"te\u0078t":"a\n","x":[1,{"y":"\u00e9"}]}"#, &names());
        assert_eq!(slots, Some(vec![Some(Slot::Str("a\n".into())), None]));
    }

    #[test]
    fn skipped_values_are_still_checked() {
        for bad in [
            "{\"text\":\"a\",\"x\":\"\x01\"}", // a raw control character
            r#"{"text":"a","x":"\q"}"#,        // an invalid escape
            r#"{"text":"a","x":01}"#,          // a leading zero
            r#"{"text":"a","x":"\ud800"}"#,    // a lone surrogate (Python takes it)
            r#"{"text":"a"} x"#,               // more after the object
            r"[1]",                            // not an object
        ] {
            assert_eq!(read(bad, &names()), None, "{bad:?}");
        }
    }

    #[test]
    fn nesting_deeper_than_128_levels_is_refused() {
        for depth in [120, 200, 100_000] {
            let line = format!(
                "{{\"text\":\"a\",\"x\":{}{}}}",
                "[".repeat(depth),
                "]".repeat(depth)
            );
            assert_eq!(read(&line, &names()).is_some(), depth < 128, "{depth}");
        }
    }
}
