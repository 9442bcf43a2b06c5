//! IMAP commands (RFC 9051 §6, with the IMAP4rev1 commands of RFC 3501 and
//! the extensions postamt offers) as the parser hands them to the server:
//! a [`Command`] is its tag and a [`CommandBody`], the command's arguments
//! checked and typed. The parsing itself starts in `dispatch.rs`.

use super::fetch::FetchItem;
use super::qresync::{FetchModifiers, SelectParams};
use super::search::{SearchKey, SearchReturn};
use super::sequence::SequenceSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: String,
    pub body: CommandBody,
}

/// How STORE changes flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    Replace,
    Add,
    Remove,
}

/// STATUS data items (RFC 9051 §6.3.11, RFC 7162 HIGHESTMODSEQ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    Messages,
    UidNext,
    UidValidity,
    Unseen,
    Deleted,
    Size,
    Recent,
    HighestModSeq,
    /// RFC 9208 §4.3.
    DeletedStorage,
    /// RFC 8474 §4.
    MailboxId,
    /// RFC 7889 §3.
    AppendLimit,
}

/// LIST-EXTENDED return options (RFC 5258, RFC 6154, RFC 5819).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListReturn {
    Subscribed,
    Children,
    SpecialUse,
    Status(Vec<StatusItem>),
}

/// One message of an APPEND (several with MULTIAPPEND, RFC 3502).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<String>,
    /// INTERNALDATE as seconds since the epoch.
    pub date: Option<i64>,
    pub content: Vec<u8>,
    /// Sent as `~{n}` (RFC 3516): may hold any octet.
    pub binary: bool,
    /// CATENATE (RFC 4469 §5): the parts the message is made of, in
    /// order; `content` is empty then.
    pub catenate: Vec<CatenatePart>,
}

/// One part of a CATENATE (RFC 4469 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatenatePart {
    /// `TEXT literal`: the bytes as sent.
    Text(Vec<u8>),
    /// `URL astring`: message data of this account (see
    /// [`super::imap_url`]), as the client wrote it.
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandBody {
    Capability,
    Noop,
    Logout,
    StartTls,
    Authenticate {
        mechanism: String,
        initial_response: Option<Vec<u8>>,
    },
    Login {
        user: String,
        password: String,
    },
    Enable(Vec<String>),
    Select {
        mailbox: Vec<u8>,
        params: SelectParams,
    },
    Examine {
        mailbox: Vec<u8>,
        params: SelectParams,
    },
    /// REPLACE and UID REPLACE (RFC 8508): `number` is a sequence number,
    /// or a UID with `uid`.
    Replace {
        uid: bool,
        number: u32,
        mailbox: Vec<u8>,
        message: AppendMessage,
    },
    Create {
        mailbox: Vec<u8>,
        /// CREATE-SPECIAL-USE (RFC 6154 §3): `(USE (\Drafts))`.
        uses: Vec<String>,
    },
    Delete {
        mailbox: Vec<u8>,
    },
    Rename {
        from: Vec<u8>,
        to: Vec<u8>,
    },
    Subscribe {
        mailbox: Vec<u8>,
    },
    Unsubscribe {
        mailbox: Vec<u8>,
    },
    List {
        selection: Vec<String>,
        reference: Vec<u8>,
        patterns: Vec<Vec<u8>>,
        returns: Vec<ListReturn>,
    },
    Lsub {
        reference: Vec<u8>,
        pattern: Vec<u8>,
    },
    Namespace,
    Status {
        mailbox: Vec<u8>,
        items: Vec<StatusItem>,
    },
    Append {
        mailbox: Vec<u8>,
        messages: Vec<AppendMessage>,
    },
    Idle,
    Close,
    Unselect,
    Expunge {
        uids: Option<SequenceSet>,
    },
    Search {
        uid: bool,
        returns: Option<Vec<SearchReturn>>,
        charset: Option<String>,
        key: SearchKey,
    },
    /// SORT and UID SORT (RFC 5256, RFC 5267 ESORT).
    Sort {
        uid: bool,
        returns: Option<Vec<SearchReturn>>,
        criteria: Vec<super::SortCriterion>,
        charset: String,
        key: SearchKey,
    },
    /// THREAD and UID THREAD (RFC 5256).
    Thread {
        uid: bool,
        algorithm: super::ThreadAlgorithm,
        charset: String,
        key: SearchKey,
    },
    Fetch {
        uid: bool,
        set: SequenceSet,
        items: Vec<FetchItem>,
        modifiers: FetchModifiers,
    },
    Store {
        uid: bool,
        set: SequenceSet,
        mode: StoreMode,
        silent: bool,
        flags: Vec<String>,
        unchanged_since: Option<u64>,
    },
    Copy {
        uid: bool,
        set: SequenceSet,
        mailbox: Vec<u8>,
    },
    Move {
        uid: bool,
        set: SequenceSet,
        mailbox: Vec<u8>,
    },
    Id(Option<Vec<(String, Option<String>)>>),
    /// NOTIFY (RFC 5465).
    Notify(super::notify::Notify),
    /// RFC 9208 §4.1.1.
    GetQuota {
        root: Vec<u8>,
    },
    /// RFC 9208 §4.1.2.
    GetQuotaRoot {
        mailbox: Vec<u8>,
    },
    /// RFC 9208 §4.1.3: resource names (upper-cased) and limits.
    SetQuota {
        root: Vec<u8>,
        limits: Vec<(String, u64)>,
    },
    /// COMPRESS (RFC 4978): the mechanism's name, upper-cased.
    Compress(String),
    /// GETMETADATA (RFC 5464 §4.2); "" is the server. Entry names are
    /// checked and lower-cased (see `metadata.rs`).
    GetMetadata {
        mailbox: Vec<u8>,
        max_size: Option<u64>,
        depth: super::MetadataDepth,
        entries: Vec<String>,
    },
    /// SETMETADATA (RFC 5464 §4.3): None removes the entry.
    SetMetadata {
        mailbox: Vec<u8>,
        entries: Vec<(String, Option<Vec<u8>>)>,
    },
    /// CANCELUPDATE (RFC 5267 §4.3.5): the tags whose updates end.
    CancelUpdate(Vec<String>),
}
