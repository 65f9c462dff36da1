//! Blackmagic DeckLink capture cards, through the vendor's runtime library
//! (`libDeckLinkAPI.so`, installed with Blackmagic's Desktop Video drivers),
//! loaded at run time so that camsync builds and runs without it.
//!
//! What this adapter does today: load the runtime, report clearly when it is
//! absent, and enumerate the cards through `IDeckLinkIterator` (the SDK's
//! COM-style interface: a vtable whose first three entries are IUnknown's
//! QueryInterface, AddRef and Release, then `Next`). Capturing frames
//! (`IDeckLinkInput` with a callback object) needs a card to be written and
//! tested against, and is not built yet: the README says so.

use libloading::{Library, Symbol};
use std::ffi::c_void;

/// The library the Desktop Video drivers install (DeckLinkAPIDispatch.cpp's name).
pub const LIBRARY: &str = "libDeckLinkAPI.so";

/// The iterator's factory, by SDK generation (newest first).
const ITERATOR_FACTORIES: [&[u8]; 3] = [
    b"CreateDeckLinkIteratorInstance_0004\0",
    b"CreateDeckLinkIteratorInstance_0003\0",
    b"CreateDeckLinkIteratorInstance_0002\0",
];

#[derive(Debug, thiserror::Error)]
pub enum DeckLinkError {
    #[error(
        "the DeckLink runtime ({LIBRARY}) is not installed: install Blackmagic Desktop Video \
         for your card, or use a file or V4L2 camera ({0})"
    )]
    RuntimeMissing(String),
    #[error("{LIBRARY} has no DeckLink iterator factory (an unsupported SDK generation?)")]
    NoFactory,
    #[error("the DeckLink runtime could not create a device iterator (is the driver loaded?)")]
    NoIterator,
}

/// IUnknown's and IDeckLinkIterator's vtable, as laid out by the SDK headers.
#[repr(C)]
struct IteratorVtbl {
    query_interface: unsafe extern "C" fn(*mut c_void, [u8; 16], *mut *mut c_void) -> i32,
    add_ref: unsafe extern "C" fn(*mut c_void) -> u32,
    release: unsafe extern "C" fn(*mut c_void) -> u32,
    next: unsafe extern "C" fn(*mut c_void, *mut *mut c_void) -> i32,
}

#[repr(C)]
struct ComObject {
    vtbl: *const IteratorVtbl,
}

/// The loaded runtime.
pub struct DeckLink {
    library: Library,
}

impl DeckLink {
    /// Loads the runtime; `RuntimeMissing` names what the loader said.
    pub fn load() -> Result<Self, DeckLinkError> {
        // SAFETY: loading a shared library runs its initialisers; the
        // DeckLink runtime's are the vendor's and have no preconditions.
        let library = unsafe { Library::new(LIBRARY) }
            .map_err(|e| DeckLinkError::RuntimeMissing(e.to_string()))?;
        Ok(DeckLink { library })
    }

    /// How many DeckLink devices the driver reports.
    pub fn device_count(&self) -> Result<usize, DeckLinkError> {
        type Factory = unsafe extern "C" fn() -> *mut c_void;
        let factory: Symbol<'_, Factory> = ITERATOR_FACTORIES
            .iter()
            // SAFETY: the symbol, when present, is the SDK's factory with this
            // signature (DeckLinkAPIDispatch.cpp declares it so).
            .find_map(|name| unsafe { self.library.get::<Factory>(*name) }.ok())
            .ok_or(DeckLinkError::NoFactory)?;
        // SAFETY: the factory takes nothing and returns an owned iterator or null.
        let iterator = unsafe { factory() };
        if iterator.is_null() {
            return Err(DeckLinkError::NoIterator);
        }
        let object = iterator.cast::<ComObject>();
        let mut count = 0;
        // SAFETY: `iterator` is a live IDeckLinkIterator whose vtable starts
        // with IUnknown's three entries and then Next; every device it hands
        // out and the iterator itself are released exactly once.
        unsafe {
            let vtbl = &*(*object).vtbl;
            loop {
                let mut device: *mut c_void = std::ptr::null_mut();
                if (vtbl.next)(iterator, &mut device) != 0 || device.is_null() {
                    break;
                }
                count += 1;
                let device_vtbl = &*(*device.cast::<ComObject>()).vtbl;
                (device_vtbl.release)(device);
            }
            (vtbl.release)(iterator);
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_runtime_the_error_says_what_to_install() {
        match DeckLink::load() {
            Err(e) => assert!(e.to_string().contains("Desktop Video"), "{e}"),
            // A machine with the drivers: the count is whatever it has.
            Ok(d) => {
                let _ = d.device_count();
            }
        }
    }
}
