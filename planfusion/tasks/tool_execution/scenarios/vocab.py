"""Names and phrases the worlds are built from (none of them reads as a failure report)."""

FIRST = ("Maya", "Omar", "Lena", "Diego", "Aiko", "Noah", "Zara", "Ivan", "Priya", "Tomas", "Elif", "Jonas",
         "Keira", "Mateo", "Sana", "Felix", "Yara", "Hugo", "Nadia", "Ravi", "Greta", "Kofi", "Mila", "Arjun",
         "Lucia", "Emil", "Hana", "Bruno", "Ines", "Tariq", "Vera", "Lars")
LAST = ("Chen", "Okafor", "Novak", "Reyes", "Sato", "Berg", "Haddad", "Petrov", "Rao", "Silva", "Kaya", "Lund",
        "Moreau", "Ortiz", "Ibrahim", "Weber", "Costa", "Nakamura", "Fischer", "Mensah", "Quinn", "Varga")
AGENTS = ("ash", "bea", "cal", "dev", "eli", "fay", "gus", "ida", "jo", "kit", "lou", "max", "nia", "oz", "pia",
          "rex", "sol", "tam", "uma", "vic", "wes", "yan", "zoe")
TEAMS = ("billing", "network", "accounts", "hardware", "onboarding", "mobile")
TOPICS = (  # (ticket title, tag)
    ("VPN drops every hour", "vpn"), ("VPN client asks for a new token", "vpn"),
    ("Invoice shows the wrong VAT rate", "billing"), ("Charged twice for one month", "billing"),
    ("Password reset email never arrives", "login"), ("Two-factor code rejected", "login"),
    ("Printer on floor 3 jams", "printer"), ("Printer queue stuck", "printer"),
    ("Shared mailbox missing", "email"), ("Emails land in spam", "email"),
    ("App crashes on startup", "mobile"), ("Push notifications stopped", "mobile"),
    ("Laptop battery drains fast", "hardware"), ("Docking station shows no display", "hardware"),
    ("New hire needs an account", "onboarding"), ("Access to the wiki for a contractor", "onboarding"),
    ("Website slow in the evening", "outage"), ("Status page shows degraded API", "outage"),
)
PROJECTS = ("atlas", "beacon", "cobalt", "delta", "ember", "falcon", "garnet", "harbor", "iris", "juniper",
            "kestrel", "lumen", "meridian", "nova", "orchid", "pioneer")
DOCS = ("budget", "roadmap", "minutes", "spec", "risks", "launch-plan", "notes", "contacts", "design", "faq",
        "timeline", "retro")
DOC_STATUSES = ("draft", "review", "done")
ADJECTIVES = ("Walnut", "Canvas", "Ceramic", "Copper", "Linen", "Bamboo", "Steel", "Wool", "Glass", "Cedar",
              "Marble", "Velvet")
PRODUCTS = ("Desk Lamp", "Backpack", "Mug", "Kettle", "Notebook", "Chair", "Blanket", "Vase", "Clock", "Tray",
            "Stool", "Planter", "Bookend", "Coaster Set")
MEMOS = ("rent", "utilities", "groceries", "insurance", "tuition", "gym", "phone bill", "car service", "gift",
         "travel", "savings", "repairs")
NOTES = ("Checked with the customer", "Workaround shared", "Fix confirmed by the customer", "Duplicate of an older issue",
         "Vendor patch applied", "Settings reset to defaults")
