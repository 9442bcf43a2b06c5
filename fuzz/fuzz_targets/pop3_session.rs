#![cfg_attr(feature = "libfuzzer", no_main)]
postamt_fuzz::target!(session_fuzz::pop3_session);
