//! Answers in the client's layer. The RPC handlers build their results with grammers'
//! types (the current layer); a client that declared an older layer with `invokeWithLayer`
//! gets the same values re-encoded with the constructors of its own layer: the result is
//! read back with the current definitions and written again with the definitions of
//! `schema.tl` that were valid at that layer (fields the old layer lacks are left out, fields
//! it requires that the new one dropped get their zero value).

mod schema;
mod value;

pub use schema::{Ctor, Schema, schema};
pub use value::{Obj, Value};

use value::{Reader, Writer};

/// The layer the handlers encode in (grammers-tl-types' schema).
pub const CURRENT_LAYER: i32 = grammers_tl_types::LAYER;
/// The oldest layer `schema.tl` describes; older clients get this layer's encoding.
pub const OLDEST_LAYER: i32 = 158;

/// Why a value could not be re-encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    #[error("truncated TL value")]
    Truncated,
    #[error("constructor {0:#010x} is not in the layer table")]
    UnknownId(u32),
    #[error("{0} has no definition at layer {1}")]
    NotInLayer(String, i32),
    #[error("{ctor}.{field}: the value does not match type {ty}")]
    Mismatch {
        ctor: String,
        field: String,
        ty: String,
    },
    #[error("{ctor}.{field}: required at layer {layer} and no default for {ty}")]
    Missing {
        ctor: String,
        field: String,
        ty: String,
        layer: i32,
    },
}

/// `result` (encoded in [`CURRENT_LAYER`]) as a client of `layer` reads it. Results made
/// only of constructors that never changed (Bool, vectors of them, unknown ones) pass through.
pub fn encode_for(layer: Option<i32>, result: Vec<u8>) -> Vec<u8> {
    let Some(layer) = layer.filter(|l| *l < CURRENT_LAYER) else {
        return result;
    };
    match transcode(&result, layer) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => result,
        Err(e) => {
            tracing::warn!("sandbox: cannot answer in layer {layer}: {e}");
            result
        }
    }
}

/// Re-encodes `bytes` for `layer`; `Ok(None)` when the table does not know the value.
pub fn transcode(bytes: &[u8], layer: i32) -> Result<Option<Vec<u8>>, LayerError> {
    let schema = schema();
    let layer = layer.max(OLDEST_LAYER);
    let mut reader = Reader::new(schema, bytes);
    let Some(value) = reader.top_level()? else {
        return Ok(None);
    };
    let mut writer = Writer::new(schema, layer);
    writer.top_level(&value)?;
    Ok(Some(writer.finish()))
}

/// Writes `value` (an object or a vector of objects) with the definitions of `layer`.
pub fn encode(value: &Value, layer: i32) -> Result<Vec<u8>, LayerError> {
    let mut writer = Writer::new(schema(), layer.max(OLDEST_LAYER));
    writer.top_level(value)?;
    Ok(writer.finish())
}

/// Reads a boxed value encoded in the current layer (for tests and tools).
pub fn decode(bytes: &[u8]) -> Result<Option<Value>, LayerError> {
    Reader::new(schema(), bytes).top_level()
}

#[cfg(test)]
mod tests;
