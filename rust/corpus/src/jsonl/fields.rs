//! Which fields of a record make a document: the corpus reader's field options, resolved once.

/// Which fields make a document, as the corpus reader was asked.
#[derive(Clone, Debug)]
pub struct Fields {
    /// The distinct field names read from a record (text and id fields); others are skipped.
    pub(super) names: Vec<String>,
    /// Text fields as indices into `names`, in joining order, each with whether a string there
    /// counts as the document having a text.
    pub(super) text: Vec<(usize, bool)>,
    /// Id fields as indices into `names`, the first present one taken.
    pub(super) ids: Vec<usize>,
    /// With no id field present: the line number is the id (else the line is declined).
    pub(super) line_ids: bool,
}

impl Fields {
    /// `text`: the text fields in joining order, each with whether a string there counts as
    /// the document having a text; `ids`: the id fields in order of preference; `line_ids`:
    /// whether a record without any id field takes its line number as id.
    pub fn new(text: &[(String, bool)], ids: &[String], line_ids: bool) -> Self {
        let mut names: Vec<String> = Vec::new();
        let mut slot = |name: &String| {
            names.iter().position(|n| n == name).unwrap_or_else(|| {
                names.push(name.clone());
                names.len() - 1
            })
        };
        let text = text.iter().map(|(n, counts)| (slot(n), *counts)).collect();
        let ids = ids.iter().map(&mut slot).collect();
        Fields {
            names,
            text,
            ids,
            line_ids,
        }
    }
}

#[cfg(test)]
impl Fields {
    /// The fields of a BEIR corpus, the tests' usual case: `title` (not counting as a text) then
    /// `text`, the id from `_id` or else `id`, or else the line number.
    pub(super) fn beir() -> Self {
        Fields::new(
            &[("title".into(), false), ("text".into(), true)],
            &["_id".into(), "id".into()],
            true,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_named_twice_is_read_once() {
        let f = Fields::new(
            &[("title".into(), false), ("x".into(), true)],
            &["x".into(), "_id".into()],
            true,
        );
        assert_eq!(f.names, ["title", "x", "_id"]);
        assert_eq!((f.text, f.ids), (vec![(0, false), (1, true)], vec![1, 2]));
    }
}
