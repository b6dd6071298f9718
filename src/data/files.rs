//! Reading and writing files for the native side: inputs plain or gzip-compressed, a
//! calendar file into the core's `Calendar`, and outputs whose folders are created first.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use crate::core::context::Calendar;
use crate::data::error::{Error, Result};

/// Opens an input file, decompressing `.gz` (any number of gzip members) on the fly.
pub fn open(path: &Path) -> Result<Box<dyn Read + Send>> {
    let f = File::open(path).map_err(|e| Error::read(path, e))?;
    let r = BufReader::with_capacity(1 << 20, f);
    if is_gzip(path) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(r)))
    } else {
        Ok(Box::new(r))
    }
}

/// Whether the file name says gzip.
pub fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// A whole input file as text.
pub fn read_text(path: &Path) -> Result<String> {
    let mut s = String::new();
    open(path)?
        .read_to_string(&mut s)
        .map_err(|e| Error::read(path, e))?;
    Ok(s)
}

/// A whole input file as bytes (e.g. an ONNX model).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::read(path, e))
}

/// Reads a calendar file: `.json` as JSON, anything else as `date,kind` CSV; a bad line is
/// an error naming the file and the line.
pub fn read_calendar(path: &Path) -> Result<Calendar> {
    let text = read_text(path)?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let cal = if json {
        Calendar::from_json(&text)
    } else {
        Calendar::from_csv(&text)
    };
    cal.map_err(|source| Error::InFile {
        path: path.to_path_buf(),
        source,
    })
}

/// Creates the folder an output file goes into (every command that writes a file calls
/// this, so `--out some/new/dir/file` works on a fresh clone).
pub fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))
        }
        _ => Ok(()),
    }
}

/// Creates a folder and its parents.
pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))
}

/// Writes a whole output file, creating its folder.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    create_parent(path)?;
    std::fs::write(path, bytes).map_err(|e| Error::write(path, e))
}

/// An output file being written, plain or gzip; [`Output::finish`] flushes it and writes the
/// gzip trailer, reporting any error (dropping it would swallow them).
pub struct Output {
    path: std::path::PathBuf,
    sink: Sink,
}

enum Sink {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
}

/// Creates an output file (its folder too), gzip-compressed when the name ends in `.gz`.
pub fn create(path: &Path) -> Result<Output> {
    create_parent(path)?;
    let f = File::create(path).map_err(|e| Error::write(path, e))?;
    let w = BufWriter::with_capacity(1 << 20, f);
    let sink = if is_gzip(path) {
        Sink::Gzip(flate2::write::GzEncoder::new(
            w,
            flate2::Compression::new(6),
        ))
    } else {
        Sink::Plain(w)
    };
    Ok(Output {
        path: path.to_path_buf(),
        sink,
    })
}

impl Output {
    /// Flushes everything (and the gzip trailer) to disk.
    pub fn finish(self) -> Result<()> {
        let path = self.path;
        let w = match self.sink {
            Sink::Plain(w) => w,
            Sink::Gzip(g) => g.finish().map_err(|e| Error::write(&path, e))?,
        };
        w.into_inner()
            .map(drop)
            .map_err(|e| Error::write(&path, e.into_error()))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.sink {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_create_their_folder_and_calendar_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("nextevent-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = dir.join("a/b/cal.csv");
        write(&out, "date,kind\n2019-11-29,promo\n2019-13-01,promo\n").unwrap();
        let e = read_calendar(&out).unwrap_err().to_string();
        assert!(e.contains("cal.csv") && e.contains("line 3: date"), "{e}");
        let missing = read_calendar(&dir.join("nope.json")).unwrap_err();
        assert!(matches!(missing, Error::Read { .. }), "{missing:?}");
        let mut gz = create(&dir.join("c/x.csv.gz")).unwrap();
        gz.write_all(b"hello").unwrap();
        gz.finish().unwrap();
        assert_eq!(read_text(&dir.join("c/x.csv.gz")).unwrap(), "hello");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
