//! A TL value read with one layer's definitions and written with another's.

use std::collections::HashMap;

use super::LayerError;
use super::schema::{Ctor, Param, Schema, Ty};

const VECTOR_ID: u32 = 0x1cb5_c415;
const BOOL_FALSE_ID: u32 = 0xbc79_9737;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    True,
    Int(i32),
    Long(i64),
    Fixed(Vec<u8>),
    Bytes(Vec<u8>),
    Vector(Vec<Value>),
    Obj(Obj),
}

/// A constructor and the fields present in it (absent optional fields are not listed).
#[derive(Debug, Clone, PartialEq)]
pub struct Obj {
    pub name: String,
    pub fields: HashMap<String, Value>,
}

impl Obj {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            fields: HashMap::new(),
        }
    }

    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.fields.insert(field.to_string(), value);
        self
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }
}

pub struct Reader<'a> {
    schema: &'a Schema,
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(schema: &'a Schema, buf: &'a [u8]) -> Self {
        Self {
            schema,
            buf,
            pos: 0,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], LayerError> {
        let end = self.pos.checked_add(n).ok_or(LayerError::Truncated)?;
        let out = self.buf.get(self.pos..end).ok_or(LayerError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, LayerError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn peek_u32(&self) -> Option<u32> {
        let b = self.buf.get(self.pos..self.pos + 4)?;
        Some(u32::from_le_bytes(b.try_into().ok()?))
    }

    /// A whole result: a boxed object, or a vector of boxed objects. `None` when a
    /// constructor is not in the table (the value then passes through unchanged).
    pub fn top_level(&mut self) -> Result<Option<Value>, LayerError> {
        let Some(id) = self.peek_u32() else {
            return Err(LayerError::Truncated);
        };
        let value = if id == VECTOR_ID {
            self.pos += 4;
            let count = self.u32()?;
            let mut items = Vec::new();
            for _ in 0..count {
                match self.peek_u32() {
                    Some(id) if self.schema.by_id(id).is_some() => {
                        items.push(self.boxed()?);
                    }
                    _ => return Ok(None),
                }
            }
            Value::Vector(items)
        } else if self.schema.by_id(id).is_some() {
            self.boxed()?
        } else {
            return Ok(None);
        };
        if self.pos != self.buf.len() {
            return Err(LayerError::Truncated);
        }
        Ok(Some(value))
    }

    fn boxed(&mut self) -> Result<Value, LayerError> {
        let id = self.u32()?;
        let ctor = self.schema.by_id(id).ok_or(LayerError::UnknownId(id))?;
        let mut flags: HashMap<&str, u32> = HashMap::new();
        let mut fields = HashMap::new();
        for p in &ctor.params {
            match p {
                Param::Flags(name) => {
                    flags.insert(name, self.u32()?);
                }
                Param::Cond {
                    name,
                    flags: word,
                    bit,
                    ty,
                } => {
                    let set = bit_set(&flags, word, *bit);
                    if set {
                        fields.insert(name.clone(), self.value(ty)?);
                    }
                }
                Param::Plain { name, ty } => {
                    fields.insert(name.clone(), self.value(ty)?);
                }
            }
        }
        Ok(Value::Obj(Obj {
            name: ctor.name.clone(),
            fields,
        }))
    }

    fn value(&mut self, ty: &Ty) -> Result<Value, LayerError> {
        Ok(match ty {
            Ty::True => Value::True,
            Ty::Int => Value::Int(self.u32()? as i32),
            Ty::Long => {
                let b = self.take(8)?;
                Value::Long(i64::from_le_bytes(b.try_into().expect("8 bytes")))
            }
            Ty::Fixed(n) => Value::Fixed(self.take(*n)?.to_vec()),
            Ty::Bytes => Value::Bytes(self.tl_bytes()?),
            Ty::Vector(inner) => {
                if self.u32()? != VECTOR_ID {
                    return Err(LayerError::Truncated);
                }
                let count = self.u32()?;
                let mut items = Vec::new();
                for _ in 0..count {
                    items.push(self.value(inner)?);
                }
                Value::Vector(items)
            }
            Ty::Boxed(_) => self.boxed()?,
        })
    }

    fn tl_bytes(&mut self) -> Result<Vec<u8>, LayerError> {
        let first = self.take(1)?[0];
        let (len, header) = if first == 254 {
            let b = self.take(3)?;
            (
                b[0] as usize | (b[1] as usize) << 8 | (b[2] as usize) << 16,
                4,
            )
        } else {
            (first as usize, 1)
        };
        let data = self.take(len)?.to_vec();
        self.take((4 - (header + len) % 4) % 4)?;
        Ok(data)
    }
}

pub struct Writer<'a> {
    schema: &'a Schema,
    layer: i32,
    out: Vec<u8>,
}

impl<'a> Writer<'a> {
    pub fn new(schema: &'a Schema, layer: i32) -> Self {
        Self {
            schema,
            layer,
            out: Vec::new(),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        self.out
    }

    fn u32(&mut self, v: u32) {
        self.out.extend(v.to_le_bytes());
    }

    pub fn top_level(&mut self, value: &Value) -> Result<(), LayerError> {
        match value {
            Value::Vector(items) => {
                self.u32(VECTOR_ID);
                self.u32(items.len() as u32);
                for item in items {
                    self.top_level(item)?;
                }
                Ok(())
            }
            Value::Obj(obj) => self.obj(obj),
            _ => Err(LayerError::Truncated),
        }
    }

    fn obj(&mut self, obj: &Obj) -> Result<(), LayerError> {
        let ctor = self
            .schema
            .at(&obj.name, self.layer)
            .ok_or_else(|| LayerError::NotInLayer(obj.name.clone(), self.layer))?;
        let flags = flag_words(ctor, obj);
        self.u32(ctor.id);
        for p in &ctor.params {
            match p {
                Param::Flags(name) => self.u32(flags.get(name.as_str()).copied().unwrap_or(0)),
                Param::Cond {
                    name,
                    flags: word,
                    bit,
                    ty,
                } => {
                    let set = bit_set(&flags, word, *bit);
                    if set && *ty != Ty::True {
                        self.field(ctor, name, ty, obj.get(name))?;
                    }
                }
                Param::Plain { name, ty } => self.field(ctor, name, ty, obj.get(name))?,
            }
        }
        Ok(())
    }

    /// Writes a field, or its zero value when the source layer did not have it.
    fn field(
        &mut self,
        ctor: &Ctor,
        name: &str,
        ty: &Ty,
        value: Option<&Value>,
    ) -> Result<(), LayerError> {
        match value {
            Some(v) => self.value(ty, v).map_err(|e| match e {
                LayerError::Truncated => LayerError::Mismatch {
                    ctor: ctor.name.clone(),
                    field: name.to_string(),
                    ty: ty.to_string(),
                },
                other => other,
            }),
            None => {
                match ty {
                    Ty::True => {}
                    Ty::Int => self.u32(0),
                    Ty::Long => self.out.extend([0u8; 8]),
                    Ty::Fixed(n) => self.out.extend(vec![0u8; *n]),
                    Ty::Bytes => self.tl_bytes(&[]),
                    Ty::Vector(_) => {
                        self.u32(VECTOR_ID);
                        self.u32(0);
                    }
                    Ty::Boxed(t) if t == "Bool" => self.u32(BOOL_FALSE_ID),
                    Ty::Boxed(_) => {
                        return Err(LayerError::Missing {
                            ctor: ctor.name.clone(),
                            field: name.to_string(),
                            ty: ty.to_string(),
                            layer: self.layer,
                        });
                    }
                }
                Ok(())
            }
        }
    }

    fn value(&mut self, ty: &Ty, value: &Value) -> Result<(), LayerError> {
        match (ty, value) {
            (Ty::True, Value::True) => {}
            (Ty::Int, Value::Int(v)) => self.u32(*v as u32),
            (Ty::Long, Value::Long(v)) => self.out.extend(v.to_le_bytes()),
            (Ty::Fixed(n), Value::Fixed(b)) if b.len() == *n => self.out.extend(b),
            (Ty::Bytes, Value::Bytes(b)) => self.tl_bytes(b),
            (Ty::Vector(inner), Value::Vector(items)) => {
                self.u32(VECTOR_ID);
                self.u32(items.len() as u32);
                for item in items {
                    self.value(inner, item)?;
                }
            }
            (Ty::Boxed(_), Value::Obj(obj)) => self.obj(obj)?,
            _ => return Err(LayerError::Truncated),
        }
        Ok(())
    }

    fn tl_bytes(&mut self, data: &[u8]) {
        let header = if data.len() < 254 {
            self.out.push(data.len() as u8);
            1
        } else {
            self.out.push(254);
            self.out.extend(&(data.len() as u32).to_le_bytes()[..3]);
            4
        };
        self.out.extend(data);
        let pad = (4 - (header + data.len()) % 4) % 4;
        self.out.extend(std::iter::repeat_n(0u8, pad));
    }
}

fn bit_set(flags: &HashMap<&str, u32>, word: &str, bit: u32) -> bool {
    flags.get(word).is_some_and(|w| w & (1 << bit) != 0)
}

/// The flag words of `ctor` for the fields `obj` has: a bit is set when any field that
/// uses it is present (true flags only when true).
fn flag_words<'c>(ctor: &'c Ctor, obj: &Obj) -> HashMap<&'c str, u32> {
    let mut words = HashMap::new();
    for p in &ctor.params {
        if let Param::Cond {
            name,
            flags: word,
            bit,
            ..
        } = p
            && obj.get(name).is_some()
        {
            *words.entry(word.as_str()).or_insert(0) |= 1 << bit;
        }
    }
    words
}
