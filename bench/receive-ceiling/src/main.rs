//! How cheaply can one object be downloaded in ranges and checked against its MD5 on this machine?
//!
//! A measuring tool for `bench/vs-rclone` (`CEILING=...`), not part of Ferry: plain HTTP/1.1 GETs
//! over keep-alive connections, anonymous (the container must be public), one thread per
//! connection reading each range's body into one reused buffer of `PIECE_KB` and writing it with
//! `pwrite` straight away, and the object's MD5 computed by reading the file back in order, as
//! Ferry did — while later ranges arrive (`HASH=inorder`), after the last one (`after`, rclone's
//! way) or not at all (`none`); or (`HASH=memory`) each range received whole into one of
//! 2 × STREAMS buffers and hashed from there, in order, as Ferry's staged downloads do, written in
//! WRITE_KB pieces as they fill, around the page cache with `DIRECT=1` (`O_DIRECT`). No retries,
//! no TLS, no proxies: it bounds what a client can save, it is not a client.
//!
//! Usage: receive-ceiling URL SIZE DEST
//!   env STREAMS=4 RANGE_MB=32 PIECE_KB=32 WRITE_KB=PIECE_KB (the most one `pwrite` takes) HASH=inorder
//!   DIRECT=0
//! Prints the object's MD5 in hex.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// Where the download stands: which ranges are written, and how many are hashed.
struct Progress {
    written: Mutex<(Vec<bool>, usize)>,
    changed: Condvar,
}

impl Progress {
    fn wait_until(&self, ready: impl Fn(&(Vec<bool>, usize)) -> bool) {
        let mut state = self.written.lock().expect("lock");
        while !ready(&state) {
            state = self.changed.wait(state).expect("lock");
        }
    }

    fn update(&self, change: impl FnOnce(&mut (Vec<bool>, usize))) {
        change(&mut self.written.lock().expect("lock"));
        self.changed.notify_all();
    }
}

/// What every connection needs to know.
struct Job {
    host: String,
    path: String,
    size: u64,
    range: u64,
    ranges: usize,
    piece: usize,
    /// The most one `pwrite` writes (the page cache's folio follows it).
    write: usize,
    /// Ranges allowed ahead of the hash (the in-order hash's memory bound).
    ahead: usize,
    next: AtomicUsize,
    file: File,
    /// The same file opened with `O_DIRECT` (`DIRECT=1`): aligned writes skip the page cache.
    direct: Option<File>,
    progress: Progress,
    /// `HASH=memory`: each range is received whole into a buffer the hash reads from memory.
    memory: Option<Memory>,
}

/// Whole-range buffers handed from the connections to the in-order hash, and back.
struct Memory {
    /// Range i's received bytes (at their aligned offset in the buffer), until hashed.
    slots: Mutex<Vec<Option<(Vec<u8>, usize)>>>,
    filled: Condvar,
    /// Buffers free for the next range: the memory bound.
    free: Mutex<Vec<Vec<u8>>>,
    freed: Condvar,
}

const ALIGN: usize = 4096;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).map(|v| v.parse().expect("a number")).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, size, dest] = args.as_slice() else {
        panic!("usage: receive-ceiling URL SIZE DEST");
    };
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_at(rest.find('/').expect("a path"));
    let size: u64 = size.parse().expect("SIZE in bytes");
    let hash = std::env::var("HASH").unwrap_or_else(|_| "inorder".into());
    let streams = env_or("STREAMS", 4);
    let range = env_or("RANGE_MB", 32) as u64 * 1024 * 1024;
    let ranges = size.div_ceil(range) as usize;
    let file = File::options().create(true).truncate(true).read(true).write(true).open(dest).expect("DEST");
    file.set_len(size).expect("size the file");
    let direct = (env_or("DIRECT", 0) == 1).then(|| {
        use std::os::unix::fs::OpenOptionsExt;
        File::options().write(true).custom_flags(0o40000).open(dest).expect("O_DIRECT")
    });
    let memory = (hash == "memory").then(|| Memory {
        slots: Mutex::new((0..ranges).map(|_| None).collect()),
        filled: Condvar::new(),
        free: Mutex::new((0..2 * streams).map(|_| vec![0u8; range as usize + ALIGN]).collect()),
        freed: Condvar::new(),
    });
    let job = Arc::new(Job {
        host: host.into(),
        path: path.into(),
        size,
        range,
        ranges,
        piece: env_or("PIECE_KB", 32) * 1024,
        write: env_or("WRITE_KB", env_or("PIECE_KB", 32)) * 1024,
        ahead: if hash == "inorder" || hash == "memory" { 2 * streams } else { ranges },
        next: AtomicUsize::new(0),
        file,
        direct,
        memory,
        progress: Progress { written: Mutex::new((vec![false; ranges], 0)), changed: Condvar::new() },
    });
    let connections: Vec<_> = (0..streams)
        .map(|_| {
            std::thread::spawn({
                let job = job.clone();
                move || receive(&job)
            })
        })
        .collect();
    let wait_all = |connections: Vec<std::thread::JoinHandle<()>>| {
        connections.into_iter().for_each(|c| c.join().expect("a connection failed"))
    };
    match hash.as_str() {
        "none" => wait_all(connections),
        "memory" => {
            let digest = hash_from_memory(&job);
            wait_all(connections);
            println!("{}", hex(&digest));
        }
        "after" => {
            wait_all(connections);
            println!("{}", hex(&hash_in_order(&job)));
        }
        _ => {
            let digest = hash_in_order(&job);
            wait_all(connections);
            println!("{}", hex(&digest));
        }
    }
}

/// One connection: takes the next range until none is left.
fn receive(job: &Job) {
    let mut conn = TcpStream::connect(&job.host).expect("connect");
    conn.set_nodelay(true).expect("nodelay");
    let mut buf = vec![0u8; job.piece.max(16 * 1024)];
    loop {
        let i = job.next.fetch_add(1, Ordering::Relaxed);
        if i >= job.ranges {
            return;
        }
        job.progress.wait_until(|state| i < state.1 + job.ahead);
        let start = i as u64 * job.range;
        let end = (start + job.range).min(job.size);
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nx-ms-version: 2025-01-05\r\nx-ms-range: bytes={start}-{}\r\n\r\n",
            job.path,
            job.host,
            end - 1
        );
        conn.write_all(request.as_bytes()).expect("send");
        if let Some(memory) = &job.memory {
            receive_whole(job, memory, &mut conn, &mut buf, i, start, end);
            continue;
        }
        let (body_len, mut filled) = read_head(&mut conn, &mut buf);
        assert_eq!(body_len, end - start, "the range asked for");
        let mut at = start;
        let mut left = body_len - filled as u64;
        loop {
            let piece = job.piece.max(filled);
            while filled < piece && left > 0 {
                let want = (piece - filled).min(left as usize);
                let got = conn.read(&mut buf[filled..filled + want]).expect("receive");
                assert!(got > 0, "the connection closed mid-body");
                filled += got;
                left -= got as u64;
            }
            for chunk in buf[..filled].chunks(job.write) {
                job.file.write_all_at(chunk, at).expect("write");
                at += chunk.len() as u64;
            }
            filled = 0;
            if left == 0 {
                break;
            }
        }
        job.progress.update(|state| state.0[i] = true);
    }
}

/// `HASH=memory`: range `i` received whole into a free buffer, written (aligned with `O_DIRECT`
/// when asked), and left for the hash.
#[allow(clippy::too_many_arguments)]
fn receive_whole(job: &Job, memory: &Memory, conn: &mut TcpStream, head: &mut [u8], i: usize, start: u64, end: u64) {
    let mut whole = {
        let mut free = memory.free.lock().expect("lock");
        loop {
            if let Some(b) = free.pop() {
                break b;
            }
            free = memory.freed.wait(free).expect("lock");
        }
    };
    let at = whole.as_ptr().align_offset(ALIGN);
    let len = (end - start) as usize;
    let (body_len, filled) = read_head(conn, head);
    assert_eq!(body_len, end - start);
    whole[at..at + filled].copy_from_slice(&head[..filled]);
    let mut got = filled;
    let mut written = 0;
    while got < len {
        let want = (len - got).min(job.piece);
        let n = conn.read(&mut whole[at + got..at + got + want]).expect("receive");
        assert!(n > 0, "closed mid-body");
        got += n;
        // Write each whole 1 MiB (or the end) as it completes.
        let ready = if got == len { len } else { got / job.write * job.write };
        if ready > written {
            write_out(job, &whole[at + written..at + ready], start + written as u64);
            written = ready;
        }
    }
    if written < len {
        write_out(job, &whole[at + written..at + len], start + written as u64);
    }
    memory.slots.lock().expect("lock")[i] = Some((whole, at));
    memory.filled.notify_all();
}

fn write_out(job: &Job, data: &[u8], at: u64) {
    match &job.direct {
        Some(direct) => {
            let aligned = data.len() / ALIGN * ALIGN;
            direct.write_all_at(&data[..aligned], at).expect("direct write");
            job.file.write_all_at(&data[aligned..], at + aligned as u64).expect("write the tail");
        }
        None => job.file.write_all_at(data, at).expect("write"),
    }
}

/// The MD5 of the file, from each range's buffer in order.
fn hash_from_memory(job: &Job) -> [u8; 16] {
    let memory = job.memory.as_ref().expect("memory mode");
    let mut md5 = ferry_md5::Md5::new();
    for i in 0..job.ranges {
        let (whole, at) = {
            let mut slots = memory.slots.lock().expect("lock");
            loop {
                if let Some(taken) = slots[i].take() {
                    break taken;
                }
                slots = memory.filled.wait(slots).expect("lock");
            }
        };
        let len = (((i as u64 + 1) * job.range).min(job.size) - i as u64 * job.range) as usize;
        md5.update(&whole[at..at + len]);
        memory.free.lock().expect("lock").push(whole);
        memory.freed.notify_all();
        // Lets range i + ahead start: never more ranges unhashed than buffers.
        job.progress.update(|state| state.1 = i + 1);
    }
    md5.finalize()
}

/// Reads a response's head into `buf`; returns its Content-Length and how many body bytes
/// followed the head (moved to the start of `buf`).
fn read_head(conn: &mut TcpStream, buf: &mut [u8]) -> (u64, usize) {
    let mut got = 0;
    let body_at = loop {
        let n = conn.read(&mut buf[got..]).expect("receive the head");
        assert!(n > 0, "the connection closed");
        got += n;
        if let Some(end) = buf[..got].windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = std::str::from_utf8(&buf[..body_at]).expect("an ASCII head");
    assert!(head.starts_with("HTTP/1.1 206"), "not a range: {head}");
    let length = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().expect("a length"))
        })
        .expect("a Content-Length");
    buf.copy_within(body_at..got, 0);
    (length, got - body_at)
}

/// The MD5 of the file, read back range by range as each is written.
fn hash_in_order(job: &Job) -> [u8; 16] {
    let mut md5 = ferry_md5::Md5::new();
    let mut back = vec![0u8; 128 * 1024];
    for i in 0..job.ranges {
        job.progress.wait_until(|state| state.0[i]);
        let end = ((i as u64 + 1) * job.range).min(job.size);
        let mut at = i as u64 * job.range;
        while at < end {
            let want = ((end - at) as usize).min(back.len());
            job.file.read_exact_at(&mut back[..want], at).expect("read back");
            md5.update(&back[..want]);
            at += want as u64;
        }
        job.progress.update(|state| state.1 = i + 1);
    }
    md5.finalize()
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
