//! The body of a REST upsert of a batch of documents, written as qdrant-client writes it for
//! the same points.

use serde_json::value::RawValue;

use super::point_id::point_id;

/// A batch of documents to upsert: CSR sparse vectors, optional dense rows, and one payload
/// (a JSON object) per document.
pub struct Upsert<'a> {
    pub doc_ids: &'a [&'a str],
    /// A JSON array with one object per document: its payload besides `doc_id`.
    pub payloads: &'a [u8],
    pub indptr: &'a [i64],
    pub indices: &'a [u32],
    pub values: &'a [f32],
    /// Row-major dense vectors and their width, one row per document.
    pub dense: Option<(&'a [f32], usize)>,
    pub sparse_name: &'a str,
    pub dense_name: &'a str,
}

/// The body of Qdrant's `PUT /collections/NAME/points`: `{"points": [...]}`, each point
/// `{"id", "vector": {sparse: {"indices", "values"}, dense: [...]}, "payload": {"doc_id", ...}}`,
/// as qdrant-client writes it. Values are float32 widened to float64, written as the shortest
/// text that reads back as that float64 (what `json.dumps(float)` writes, up to exponent
/// notation), so a server parses the numbers qdrant-client sent.
pub fn upsert_json(batch: &Upsert<'_>) -> Result<Vec<u8>, String> {
    let n = batch.doc_ids.len();
    let payloads: Vec<&RawValue> = serde_json::from_slice(batch.payloads)
        .map_err(|e| format!("payloads are not a JSON array: {e}"))?;
    if payloads.len() != n || batch.indptr.len() != n + 1 {
        return Err(format!(
            "{n} ids, {} payloads and {} vectors: one of each per document",
            payloads.len(),
            batch.indptr.len().saturating_sub(1)
        ));
    }
    if let Some((rows, width)) = batch.dense {
        if rows.len() != n * width {
            return Err(format!(
                "{} dense values for {n} documents of width {width}",
                rows.len()
            ));
        }
    }
    let mut out = Vec::with_capacity(64 + n * 160 + batch.values.len() * 32);
    out.extend_from_slice(b"{\"points\":[");
    let mut floats = ryu::Buffer::new();
    let mut ints = itoa::Buffer::new();
    for (i, (doc_id, payload)) in batch.doc_ids.iter().zip(&payloads).enumerate() {
        let (a, b) = (batch.indptr[i], batch.indptr[i + 1]);
        let range = usize::try_from(a)
            .ok()
            .zip(usize::try_from(b).ok())
            .filter(|(a, b)| a <= b && *b <= batch.indices.len() && *b <= batch.values.len())
            .ok_or_else(|| format!("indptr[{i}..{}] = {a}..{b} is out of bounds", i + 1))?;
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"id\":\"");
        out.extend_from_slice(point_id(doc_id).as_bytes());
        out.extend_from_slice(b"\",\"vector\":{");
        string(&mut out, batch.sparse_name);
        out.extend_from_slice(b":{\"indices\":[");
        for (k, index) in batch.indices[range.0..range.1].iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(ints.format(*index).as_bytes());
        }
        out.extend_from_slice(b"],\"values\":[");
        floats_into(&mut out, &mut floats, &batch.values[range.0..range.1])?;
        out.extend_from_slice(b"]}");
        if let Some((rows, width)) = batch.dense {
            out.push(b',');
            string(&mut out, batch.dense_name);
            out.extend_from_slice(b":[");
            floats_into(&mut out, &mut floats, &rows[i * width..(i + 1) * width])?;
            out.push(b']');
        }
        out.extend_from_slice(b"},\"payload\":{\"doc_id\":");
        string(&mut out, doc_id);
        let members = object_members(payload.get())
            .ok_or_else(|| format!("payload {i} is not a JSON object"))?;
        if !members.is_empty() {
            out.push(b',');
            out.extend_from_slice(members.as_bytes());
        }
        out.extend_from_slice(b"}}");
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// `s` as a JSON string.
fn string(out: &mut Vec<u8>, s: &str) {
    // Serializing a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn floats_into(out: &mut Vec<u8>, buf: &mut ryu::Buffer, values: &[f32]) -> Result<(), String> {
    for (k, v) in values.iter().enumerate() {
        if !v.is_finite() {
            return Err(format!("{v} is not a number JSON can carry"));
        }
        if k > 0 {
            out.push(b',');
        }
        out.extend_from_slice(buf.format_finite(f64::from(*v)).as_bytes());
    }
    Ok(())
}

/// The members of a JSON object's text (what lies between its braces), or None when the text
/// is not an object.
fn object_members(raw: &str) -> Option<&str> {
    raw.trim()
        .strip_prefix('{')?
        .strip_suffix('}')
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upsert(payloads: &[u8], dense: Option<(&[f32], usize)>) -> Result<String, String> {
        let batch = Upsert {
            doc_ids: &["d0", "q\"1"],
            payloads,
            indptr: &[0, 2, 2],
            indices: &[7, 4_000_000_000],
            values: &[1.5, 0.1],
            dense,
            sparse_name: "bm25",
            dense_name: "dense",
        };
        upsert_json(&batch).map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn the_json_has_every_point() {
        let body = upsert(br#"[{"k":"v"},{}]"#, Some((&[0.1, 2.0, 1e-7, -3.0], 2))).unwrap();
        let expected = concat!(
            r#"{"points":[{"id":"95d262d7-10ca-5080-a776-79d3770eb4c9","vector":{"bm25":"#,
            r#"{"indices":[7,4000000000],"values":[1.5,0.10000000149011612]},"dense":"#,
            r#"[0.10000000149011612,2.0]},"payload":{"doc_id":"d0","k":"v"}},"#,
        );
        assert!(body.starts_with(expected), "{body}");
        assert!(
            body.contains(
                r#"{"bm25":{"indices":[],"values":[]},"dense":[1.0000000116860974e-7,-3.0]}"#
            ),
            "{body}"
        );
        assert!(
            body.ends_with(r#""payload":{"doc_id":"q\"1"}}]}"#),
            "{body}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["points"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn mismatched_inputs_are_refused() {
        assert!(upsert(br"[{}]", None).unwrap_err().contains("1 payloads"));
        assert!(upsert(br"[{}, 3]", None)
            .unwrap_err()
            .contains("payload 1 is not"));
        assert!(upsert(br"{}", None)
            .unwrap_err()
            .contains("not a JSON array"));
        assert!(upsert(br"[{}, {}]", Some((&[0.0; 3], 2)))
            .unwrap_err()
            .contains("3 dense values"));
        assert!(upsert(br"[{}, {}]", Some((&[f32::NAN; 4], 2)))
            .unwrap_err()
            .contains("NaN"));
    }
}
