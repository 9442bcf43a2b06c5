//! The data directory holds password hashes and mail: only the user
//! postamt runs as may read it. Directories are made 0700 and files 0600
//! explicitly, whatever the process umask says.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::{Error, Result};

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parents as private directories.
pub(crate) fn create_dir(dir: &Path) -> Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| Error::io(dir, e))
}

/// Opens `path` for writing, emptied; a file it creates is private.
pub(crate) fn create_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Makes sure `path` exists, creating it empty and private if it does
/// not; an existing file is left as it is.
pub(crate) fn touch(path: &Path) -> Result<()> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(FILE_MODE)
        .open(path)
        .map(drop)
        .map_err(|e| Error::io(path, e))
}

/// Takes away what others may do with an existing file or directory (one
/// made by an older version, or copied in), and says so.
pub(crate) fn restrict(path: &Path) -> Result<()> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mode = metadata.permissions().mode() & 0o777;
    let private = if metadata.is_dir() { DIR_MODE } else { FILE_MODE };
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "others could read this; making it private");
        fs::set_permissions(path, Permissions::from_mode(mode & private)).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}
