#![cfg_attr(feature = "libfuzzer", no_main)]
postamt_fuzz::target!(postamt::fuzz::tls_report);
