//! The point id of a document: a UUID derived from its document id, the same in every store and
//! every run (`bm25x._ids.point_id` is the reference).

use uuid::Uuid;

/// The namespace of point ids. Fixed forever: changing it would give every stored document a
/// new id.
const NAMESPACE: Uuid = uuid::uuid!("5d0b3f0e-8a4c-5b8e-9a51-62d8f3c0b25a");

/// The point id of a document id: `uuid5(NAMESPACE, doc_id)`, hyphenated.
pub fn point_id(doc_id: &str) -> String {
    Uuid::new_v5(&NAMESPACE, doc_id.as_bytes())
        .hyphenated()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_ids_are_the_python_reference() {
        // str(uuid.uuid5(uuid.UUID("5d0b3f0e-8a4c-5b8e-9a51-62d8f3c0b25a"), "d0")), etc.
        assert_eq!(point_id("d0"), "95d262d7-10ca-5080-a776-79d3770eb4c9");
        assert_eq!(point_id("d1"), "1316017a-3672-50ad-bda8-333aaedba708");
    }
}
