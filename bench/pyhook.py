#!/usr/bin/env python3
# The comparison the issue asks for: a plain Python hook that parses the
# domain XML with ElementTree, checks a JSON allow-list and inserts into
# SQLite, as one would write it in an afternoon.
import json, sqlite3, sys, time
import xml.etree.ElementTree as ET

name, op = sys.argv[1], sys.argv[2]
root = ET.fromstring(sys.stdin.buffer.read())
uuid = root.findtext("uuid")
allowed = json.load(open(sys.argv[5]))
db = sqlite3.connect(sys.argv[6])
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS events (time REAL, name TEXT, uuid TEXT, op TEXT, allowed INTEGER)")
db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)", (time.time(), name, uuid, op, name in allowed))
db.commit()
sys.exit(0 if name in allowed else 1)
