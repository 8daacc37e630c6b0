"""Name pools for the scheduling generators.

Names are single tokens where the instruction grammar needs it (people, cities, machines), and
no location contains " to " or a comma, so the instruction parser can split on those words.
"""

from __future__ import annotations

PEOPLE: tuple[str, ...] = (
    "Aaron", "Abigail", "Adam", "Alan", "Albert", "Alexis", "Alice", "Amanda", "Amber", "Andrea",
    "Andrew", "Angela", "Ann", "Anthony", "Arthur", "Ashley", "Barbara", "Benjamin", "Betty", "Beverly",
    "Billy", "Bobby", "Bradley", "Brandon", "Brenda", "Brian", "Bruce", "Bryan", "Carl", "Carol",
    "Carolyn", "Catherine", "Charles", "Cheryl", "Christian", "Christina", "Christopher", "Cynthia",
    "Daniel", "David", "Deborah", "Debra", "Denise", "Dennis", "Diana", "Diane", "Donald", "Donna",
    "Doris", "Dorothy", "Douglas", "Dylan", "Edward", "Elijah", "Elizabeth", "Emily", "Emma", "Eric",
    "Ethan", "Eugene", "Evelyn", "Frances", "Frank", "Gabriel", "Gary", "George", "Gerald", "Gloria",
    "Grace", "Gregory", "Hannah", "Harold", "Heather", "Helen", "Henry", "Isabella", "Jack", "Jacob",
    "Jacqueline", "James", "Janet", "Janice", "Jason", "Jean", "Jeffrey", "Jennifer", "Jeremy",
    "Jerry", "Jesse", "Jessica", "Joan", "Joe", "John", "Jonathan", "Jordan", "Jose", "Joseph",
    "Joshua", "Joyce", "Juan", "Judith", "Judy", "Julia", "Julie", "Justin", "Karen", "Katherine",
    "Kathleen", "Kathryn", "Kayla", "Keith", "Kelly", "Kenneth", "Kevin", "Kimberly", "Kyle", "Larry",
    "Laura", "Lauren", "Lawrence", "Linda", "Lisa", "Logan", "Louis", "Madison", "Margaret", "Maria",
    "Marie", "Marilyn", "Mark", "Martha", "Mary", "Matthew", "Megan", "Melissa", "Michael", "Michelle",
    "Nancy", "Natalie", "Nathan", "Nicholas", "Nicole", "Noah", "Olivia", "Pamela", "Patricia",
    "Patrick", "Paul", "Peter", "Philip", "Rachel", "Ralph", "Randy", "Raymond", "Rebecca", "Richard",
    "Robert", "Roger", "Ronald", "Rose", "Roy", "Russell", "Ruth", "Ryan", "Samantha", "Samuel",
    "Sandra", "Sara", "Scott", "Sean", "Sharon", "Shirley", "Sophia", "Stephanie", "Stephen", "Steven",
    "Susan", "Teresa", "Terry", "Theresa", "Thomas", "Timothy", "Tyler", "Victoria", "Vincent",
    "Virginia", "Walter", "Wayne", "William", "Willie", "Zachary",
)

LOCATIONS: tuple[str, ...] = (
    "Alamo Square", "Bayview", "Bernal Heights", "Chinatown", "Civic Center", "Cole Valley",
    "Dogpatch", "Embarcadero", "Excelsior", "Financial District", "Fisherman's Wharf", "Glen Park",
    "Golden Gate Park", "Haight-Ashbury", "Hayes Valley", "Japantown", "Lands End", "Lower Haight",
    "Marina District", "Mission Bay", "Mission District", "Nob Hill", "Noe Valley", "North Beach",
    "Ocean Beach", "Outer Sunset", "Pacific Heights", "Potrero Hill", "Presidio", "Presidio Heights",
    "Richmond District", "Russian Hill", "Sea Cliff", "SoMa", "Sunset District", "Telegraph Hill",
    "Tenderloin", "The Castro", "Twin Peaks", "Union Square",
)

CITIES: tuple[str, ...] = (
    "Amsterdam", "Athens", "Barcelona", "Belgrade", "Berlin", "Bruges", "Brussels", "Bucharest",
    "Budapest", "Copenhagen", "Dubrovnik", "Dublin", "Edinburgh", "Florence", "Frankfurt", "Geneva",
    "Hamburg", "Helsinki", "Istanbul", "Krakow", "Lisbon", "London", "Lyon", "Madrid", "Manchester",
    "Milan", "Munich", "Mykonos", "Naples", "Nice", "Oslo", "Paris", "Porto", "Prague", "Reykjavik",
    "Riga", "Rome", "Salzburg", "Santorini", "Seville", "Sofia", "Split", "Stockholm", "Tallinn",
    "Valencia", "Venice", "Vienna", "Vilnius", "Warsaw", "Zagreb", "Zurich",
)

EVENTS: tuple[str, ...] = (
    "attend a workshop", "visit relatives", "attend a wedding", "attend a conference", "meet a friend",
    "see an annual show", "join a guided tour", "attend a music festival", "watch a football match",
    "take a cooking class", "visit a trade fair", "attend a lecture",
)

PRODUCTS: tuple[str, ...] = (
    "axle", "bearing", "bracket", "cabinet", "chassis", "crankshaft", "flange", "frame", "gearbox",
    "hinge", "housing", "impeller", "manifold", "panel", "piston", "pulley", "pump", "rotor", "shaft",
    "spindle", "sprocket", "valve",
)

MACHINES: tuple[str, ...] = (
    "lathe", "mill", "drill", "press", "oven", "saw", "grinder", "welder", "furnace", "router",
    "polisher", "sander", "laser", "bender",
)
