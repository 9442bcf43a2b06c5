#![cfg_attr(feature = "libfuzzer", no_main)]
postamt_fuzz::target!(managesieve::fuzz::command);
