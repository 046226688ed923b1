// What common category labels mean, in words the text would use. Word vectors trained on news
// put short labels in their news sense ("bug" with insects, "account" with bank accounts and
// eyewitness accounts, "IT" nowhere at all); a gloss moves the label toward the sense a seeker
// classifying tickets, intents, topics or feelings means. Written as a general vocabulary of
// label words, not from any evaluation case; a label with no gloss is matched by its own words.
//
// Keys are lowercase label words or whole lowercase label phrases; "IT" (upper case) is the one
// key that depends on case, because "it" is a pronoun.

const G: Record<string, string> = {
  // ---- support desks, ticket queues, departments ----
  billing: "invoice charged charge payment refund subscription fee bill overcharged",
  invoice: "bill payment charged amount due receipt",
  payment: "paid pay card charged transaction billing",
  refund: "money back refunded reimburse return charged",
  bug: "error crash crashes broken glitch fails freezes malfunction",
  error: "fails crash broken message wrong",
  crash: "crashes freezes error broken closes",
  account: "login password username profile signed locked access email",
  login: "password sign username locked access account",
  password: "reset login forgot locked account",
  feature: "option functionality add would improvement ability",
  request: "please add would like wish suggestion",
  suggestion: "idea would improve could add",
  praise: "thanks thank love great excellent amazing appreciate wonderful",
  compliment: "thanks great love excellent appreciate",
  complaint: "unhappy disappointed terrible awful poor angry problem",
  feedback: "opinion suggestion review comment think",
  question: "how what wondering ask know",
  inquiry: "question ask information wondering interested",
  shipping: "delivery package shipped tracking courier arrived parcel",
  delivery: "package shipped arrived courier tracking parcel late",
  cancellation: "cancel unsubscribe terminate end stop subscription",
  cancel: "cancellation unsubscribe terminate stop subscription",
  return: "send back exchange refund returned item",
  returns: "send back exchange refund returned item",
  order: "ordered purchase bought item package shipment",
  technical: "software error computer system crash configuration",
  support: "help problem issue assistance fix",
  IT: "computer laptop network wifi server printer software password email",
  sales: "pricing quote purchase buy customers deal discount demo",
  marketing: "campaign advertising brand promotion social newsletter",
  legal: "contract lawyer lawsuit compliance agreement liability court attorney",
  finance: "budget accounting expenses invoice payment tax revenue audit",
  accounting: "budget expenses invoices ledger tax bookkeeping",
  "human resources": "employee hiring salary vacation leave payroll benefits recruitment staff",
  hr: "employee hiring salary vacation leave payroll benefits recruitment staff",
  hiring: "recruitment candidates interview job applicants",
  security: "hacked breach phishing fraud vulnerability suspicious",
  privacy: "personal data information delete consent",
  outage: "down offline unavailable server error",
  performance: "slow lag speed loading sluggish",
  onboarding: "setup getting started new welcome tutorial",
  // ---- urgency and priority ----
  urgent: "immediately asap emergency critical now quickly deadline today",
  urgency: "immediately asap emergency critical now quickly",
  emergency: "urgent immediately critical danger help",
  critical: "urgent severe immediately emergency",
  // ---- spam and abuse ----
  spam: "prize winner free offer click lottery claim cash unsubscribe",
  scam: "fraud fake prize money wire claim",
  phishing: "verify account password click link suspicious",
  // ---- assistant intents ----
  alarm: "wake morning clock o'clock am",
  timer: "minutes countdown seconds",
  reminder: "remind remember later appointment",
  music: "song play playlist artist album listen",
  play: "song music playlist listen start",
  weather: "rain sunny forecast temperature cloudy snow umbrella",
  forecast: "weather rain temperature tomorrow",
  message: "text send tell sms write",
  directions: "route way drive navigate map get street",
  navigation: "route directions drive map way",
  shopping: "buy groceries store list add",
  list: "add items",
  calendar: "schedule appointment meeting event",
  meeting: "schedule appointment calendar invite",
  call: "phone dial ring",
  booking: "book reserve reservation table hotel flight ticket",
  reservation: "book reserve table hotel",
  translate: "translation language spanish french meaning",
  // ---- news topics ----
  sports: "game team match players score season league coach championship",
  sport: "game team match players score season league",
  politics: "election government parliament senator policy vote minister president",
  business: "company market profit revenue ceo shares investors",
  economy: "inflation growth markets jobs unemployment prices",
  technology: "software computer internet smartphone app digital tech",
  tech: "software computer internet smartphone app digital",
  health: "doctor hospital disease medical patients treatment",
  entertainment: "movie film celebrity actor show television music",
  science: "research scientists study experiment discovery",
  travel: "trip flight hotel vacation tourists destination",
  food: "recipe cooking restaurant meal eat dish",
  education: "school students teachers university learning",
  environment: "climate pollution emissions wildlife conservation",
  climate: "warming emissions carbon temperatures environment",
  crime: "police arrested murder theft suspect",
  world: "international countries foreign global",
  // ---- feelings ----
  joy: "happy delighted excited glad thrilled wonderful",
  happiness: "happy delighted excited glad joy",
  anger: "angry furious mad outraged annoyed",
  sadness: "sad unhappy crying grief depressed lonely heartbroken",
  fear: "afraid scared terrified anxious nervous worried",
  surprise: "surprised shocked unexpected amazed",
  disgust: "disgusting gross revolting",
  love: "adore affection caring",
  // ---- products ----
  electronics: "phone laptop tv headphones charger battery camera",
  clothing: "shirt dress jacket shoes jeans size wear",
  groceries: "food milk bread vegetables fruit",
  furniture: "sofa table chair bed desk shelf",
  toys: "kids children game doll lego play",
  books: "novel author read paperback chapter",
  beauty: "makeup skin lipstick cream",
  // ---- fields of study ----
  physics: "quantum particles energy gravity relativity",
  biology: "cells genes organisms species evolution dna",
  chemistry: "molecules reactions compounds chemical atoms",
  "computer science": "algorithms programming software data computing",
  economics: "markets inflation supply demand prices",
  mathematics: "equations theorem proof numbers algebra",
  math: "equations theorem proof numbers algebra",
  psychology: "behavior mind cognitive mental",
  history: "ancient war century empire historical",
  medicine: "patients clinical disease treatment doctors",
  // ---- verdicts ----
  recommend: "great worth love excellent satisfied",
};

export const LABEL_GLOSSES: ReadonlyMap<string, string[]> = new Map(Object.entries(G).map(([k, v]) => [k, v.split(" ")]));

/** Gloss words for a label: its whole phrase when glossed, else each of its words' glosses. */
export function glossOf(label: string): string[] {
  const phrase = LABEL_GLOSSES.get(label.trim().toLowerCase());
  if (phrase) return phrase;
  const out: string[] = [];
  for (const token of label.split(/\s+/)) {
    const key = token === "IT" ? "IT" : token.toLowerCase().replace(/[^a-z']/g, "");
    const words = key === "it" ? undefined : LABEL_GLOSSES.get(key);
    if (words) out.push(...words);
  }
  return out;
}
