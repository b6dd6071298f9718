//! Writing the churn list: CSV (to a file or stdout) or, with the `parquet` feature, Parquet
//! (arrow record batches, snappy); the columns of [`crate::data::score::COLUMNS`] either way.

use std::path::Path;

use crate::data::error::{Error, Result};
use crate::data::files;
use crate::data::score::Scored;

/// Output formats of `score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

/// A churn list being written.
pub enum ChurnWriter {
    Csv {
        w: csv::Writer<Sink>,
        path: std::path::PathBuf,
    },
    #[cfg(feature = "parquet")]
    Parquet(parquet_out::Writer),
}

/// Where CSV goes: a file (gzip when named `.gz`) or stdout.
pub enum Sink {
    File(files::Output),
    Stdout(std::io::Stdout),
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Stdout(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Stdout(s) => s.flush(),
        }
    }
}

impl ChurnWriter {
    /// A writer to `path` (its folder created; `-` or none: stdout, CSV only).
    pub fn create(path: Option<&Path>, format: Format) -> Result<ChurnWriter> {
        let path = path.filter(|p| p.as_os_str() != "-");
        match format {
            Format::Csv => {
                let (sink, name) = match path {
                    None => (Sink::Stdout(std::io::stdout()), "stdout".into()),
                    Some(p) => (Sink::File(files::create(p)?), p.to_path_buf()),
                };
                Ok(ChurnWriter::Csv {
                    w: csv::Writer::from_writer(sink),
                    path: name,
                })
            }
            Format::Parquet => {
                #[cfg(feature = "parquet")]
                {
                    let p = path.ok_or_else(|| {
                        Error::Settings("Parquet output needs --out FILE.parquet".into())
                    })?;
                    Ok(ChurnWriter::Parquet(parquet_out::Writer::create(p)?))
                }
                #[cfg(not(feature = "parquet"))]
                {
                    let _ = path;
                    Err(Error::Settings(
                        "this build has no Parquet support: build with `--features parquet`".into(),
                    ))
                }
            }
        }
    }

    pub fn write(&mut self, row: &Scored) -> Result<()> {
        match self {
            ChurnWriter::Csv { w, path } => w.serialize(row).map_err(|source| Error::CsvWrite {
                path: path.clone(),
                source,
            }),
            #[cfg(feature = "parquet")]
            ChurnWriter::Parquet(p) => p.write(row),
        }
    }

    /// Flushes everything to disk.
    pub fn finish(self) -> Result<()> {
        match self {
            ChurnWriter::Csv { w, path } => {
                match w
                    .into_inner()
                    .map_err(|e| Error::write(&path, e.into_error()))?
                {
                    Sink::File(f) => f.finish(),
                    Sink::Stdout(mut s) => {
                        use std::io::Write;
                        s.flush().map_err(|e| Error::write(&path, e))
                    }
                }
            }
            #[cfg(feature = "parquet")]
            ChurnWriter::Parquet(p) => p.finish(),
        }
    }
}

#[cfg(feature = "parquet")]
mod parquet_out {
    //! The Parquet side: rows buffered into arrow arrays and written per 64 Ki rows.

    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, BooleanArray, Float32Array, RecordBatch, StringArray, UInt64Array,
    };
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;

    use crate::data::error::{Error, Result};
    use crate::data::score::Scored;

    const ROWS: usize = 65_536;

    pub struct Writer {
        w: ArrowWriter<std::fs::File>,
        buf: Vec<Scored>,
        path: std::path::PathBuf,
    }

    pub fn schema() -> Arc<Schema> {
        use DataType::*;
        let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
        Arc::new(Schema::new(vec![
            f("user_id", UInt64, false),
            f("user_session", Utf8, false),
            f("events", UInt64, false),
            f("last_event_time", Utf8, false),
            f("p_view", Float32, false),
            f("p_cart", Float32, false),
            f("p_remove_from_cart", Float32, false),
            f("p_purchase", Float32, false),
            f("next", Utf8, false),
            f("confidence", Float32, false),
            f("conversion", Float32, true),
            f("stage", Utf8, false),
            f("churn_risk", Boolean, false),
            f("threshold", Float32, true),
            f("favourite_brand", Utf8, false),
            f("intervention", Utf8, false),
            f("open", Boolean, false),
        ]))
    }

    impl Writer {
        pub fn create(path: &std::path::Path) -> Result<Writer> {
            crate::data::files::create_parent(path)?;
            let file = std::fs::File::create(path).map_err(|e| Error::write(path, e))?;
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let w =
                ArrowWriter::try_new(file, schema(), Some(props)).map_err(|e| Error::Write {
                    path: path.to_path_buf(),
                    source: std::io::Error::other(e),
                })?;
            Ok(Writer {
                w,
                buf: Vec::with_capacity(ROWS),
                path: path.to_path_buf(),
            })
        }

        pub fn write(&mut self, row: &Scored) -> Result<()> {
            self.buf.push(row.clone());
            if self.buf.len() >= ROWS {
                self.flush()?;
            }
            Ok(())
        }

        fn flush(&mut self) -> Result<()> {
            if self.buf.is_empty() {
                return Ok(());
            }
            let b = std::mem::take(&mut self.buf);
            let s = |f: &dyn Fn(&Scored) -> String| -> ArrayRef {
                Arc::new(StringArray::from(b.iter().map(f).collect::<Vec<_>>()))
            };
            let x = |f: &dyn Fn(&Scored) -> f32| -> ArrayRef {
                Arc::new(Float32Array::from(b.iter().map(f).collect::<Vec<_>>()))
            };
            let cols: Vec<ArrayRef> = vec![
                Arc::new(UInt64Array::from(
                    b.iter().map(|r| r.user_id).collect::<Vec<_>>(),
                )),
                s(&|r| r.user_session.clone()),
                Arc::new(UInt64Array::from(
                    b.iter().map(|r| r.events).collect::<Vec<_>>(),
                )),
                s(&|r| r.last_event_time.clone()),
                x(&|r| r.p_view),
                x(&|r| r.p_cart),
                x(&|r| r.p_remove_from_cart),
                x(&|r| r.p_purchase),
                s(&|r| r.next.to_string()),
                x(&|r| r.confidence),
                Arc::new(Float32Array::from(
                    b.iter().map(|r| r.conversion).collect::<Vec<_>>(),
                )),
                s(&|r| r.stage.to_string()),
                Arc::new(BooleanArray::from(
                    b.iter().map(|r| r.churn_risk).collect::<Vec<_>>(),
                )),
                Arc::new(Float32Array::from(
                    b.iter().map(|r| r.threshold).collect::<Vec<_>>(),
                )),
                s(&|r| r.favourite_brand.clone()),
                s(&|r| r.intervention.clone()),
                Arc::new(BooleanArray::from(
                    b.iter().map(|r| r.open).collect::<Vec<_>>(),
                )),
            ];
            let batch = RecordBatch::try_new(schema(), cols).map_err(|e| Error::Write {
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })?;
            self.w.write(&batch).map_err(|e| Error::Write {
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })
        }

        pub fn finish(mut self) -> Result<()> {
            self.flush()?;
            self.w.close().map(drop).map_err(|e| Error::Write {
                path: self.path.clone(),
                source: std::io::Error::other(e),
            })
        }
    }
}
