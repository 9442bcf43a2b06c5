#![cfg_attr(feature = "libfuzzer", no_main)]
postamt_fuzz::target!(wire::fuzz::imap_utf7);
