//! The one provider for every single-file format: a [`FileFormat`] row and the file's path.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use async_trait::async_trait;

use super::format::FileFormat;
use super::json_file::{read_json, rewrite, JsonFile};
use crate::credential::{Credential, CredentialVersion, SourceGroup};
use crate::error::Result;
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::{CredentialProvider, Listing};

/// A credential file of one [`FileFormat`] (group `files`). `get` and `list` answer what the
/// format's entries hold; `put` rewrites the written-back entries under the file's lock when the
/// file is still at the version the credential was read at, keeping every other field (see
/// [`super::json_file::rewrite`]).
#[derive(Debug, Clone)]
pub struct JsonFileProvider {
    format: &'static FileFormat,
    path: PathBuf,
}

impl JsonFileProvider {
    /// `format`'s file at `path`.
    pub fn new(format: &'static FileFormat, path: impl Into<PathBuf>) -> Self {
        JsonFileProvider {
            format,
            path: path.into(),
        }
    }

    /// `format`'s file where [`FileFormat::location`] puts it for `paths`; `None` when the
    /// folder it lives in is unknown (no home).
    pub fn from_paths(format: &'static FileFormat, paths: &OpenClawPaths) -> Option<Self> {
        format
            .location
            .resolve(paths)
            .map(|path| Self::new(format, path))
    }

    /// The format of the file.
    pub fn format(&self) -> &'static FileFormat {
        self.format
    }

    /// The file this provider reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn credential(&self, file: &JsonFile, name: &str) -> Result<Option<Credential>> {
        let found = self.format.read(&file.json.0, &file.what(), name)?;
        Ok(found.map(|f| file.credential(self.format.id, f.json_path.as_deref(), name, f.fields)))
    }
}

#[async_trait]
impl CredentialProvider for JsonFileProvider {
    fn id(&self) -> &'static str {
        self.format.id
    }

    fn group(&self) -> SourceGroup {
        SourceGroup::Files
    }

    async fn get(&self, name: &str) -> Result<Option<Credential>> {
        if self.format.entry_for(name).is_none() {
            return Ok(None);
        }
        match read_json(&self.path)? {
            Some(file) => self.credential(&file, name),
            None => Ok(None),
        }
    }

    /// The first name of each entry the file holds (every key, for `oauth.json`), in table order.
    /// A field of the wrong type fails the listing, as it fails `get`.
    async fn list(&self) -> Result<Vec<Listing>> {
        let Some(file) = read_json(&self.path)? else {
            return Ok(Vec::new());
        };
        let mut listings = Vec::new();
        for name in self.format.candidate_names(&file.json.0) {
            if let Some(credential) = self.credential(&file, &name)? {
                listings.push(Listing {
                    name,
                    location: credential.source.location,
                });
            }
        }
        Ok(listings)
    }

    fn writable(&self) -> bool {
        self.format.writable()
    }

    /// Rewrites the credential's entry (see [`FileFormat::merge`]) when the file is still at
    /// `expected`; creates the file (directory 0700, file 0600) when there is none and nothing
    /// was expected. A file that does not read is never rewritten. `INVALID_ARGUMENT` for a name
    /// the file does not hold, `UNSUPPORTED_OPERATION` for a read-only entry, `CAS_MISMATCH`
    /// when the file changed since it was read.
    async fn put(
        &self,
        credential: &Credential,
        expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        let format = self.format;
        format.check_writable(&credential.name, &self.path.display().to_string())?;
        let credential = credential.clone();
        rewrite(self.path.clone(), expected.cloned(), move |current| {
            if let Some(file) = current {
                // Never rewrite a file this provider cannot read: its fields would be lost or
                // kept broken.
                format.read(&file.json.0, &file.what(), &credential.name)?;
            }
            format.merge(current.map(|f| &f.json.0), &credential, SystemTime::now())
        })
        .await
    }
}
