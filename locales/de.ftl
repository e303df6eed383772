# Deutsch: die Worte für die Kundschaft. Dieselben ids wie en.ftl.

## Geld
money = { $amount } { $symbol }
decimal-separator = ,

## Die Anzeige
welcome = Münzen einwerfen, dann wählen
welcome-free = Heute gratis: wählen Sie ein Getränk!
credit = Guthaben { $credit }: bitte wählen
insert-more = { $product } kostet { $price }: bitte noch { $missing } einwerfen
sold-out = { $product } ist leider ausverkauft
out-of-order = { $product } ist leider gestört: bitte etwas anderes wählen
vending = { $product } kommt gleich...
retrying = { $product } klemmt: neuer Versuch ({ $attempt } von { $of })...
please-wait = Bitte warten: Ihr Artikel ist unterwegs
enjoy = Viel Freude mit { $product }!
refunded = { $product } konnte leider nicht ausgegeben werden: { $amount } sind wieder in Ihrem Guthaben
coin-not-recognised = Münze nicht erkannt: bitte das Personal rufen
paying-out = { $amount } werden zurückgegeben: bitte Münzen entnehmen
credit-kept = Guthaben { $credit } bleibt für Ihre nächste Wahl
power-restored = Entschuldigung, der Strom war während Ihres Kaufs weg: { $refunded } sind wieder in Ihrem Guthaben ({ $credit } insgesamt)
service = Wartung: Verkauf pausiert
out-of-service = Außer Betrieb: Entschuldigung!
out-of-service-credit = Außer Betrieb: Ihr Guthaben { $credit } ist sicher
starting-up = Startet: einen Moment bitte
storage-full = Außer Betrieb: Speicher voll
storage-full-credit = Außer Betrieb: Speicher voll. Ihr Guthaben { $credit } ist sicher

## Die Kioskseite
page-language = Sprache
page-credit = Guthaben
page-coin-return = Geld zurück
page-products = Getränk wählen
page-lamps = Lampen
lamp-ready = Bereit
lamp-vending = Ausgabe
lamp-fault = Störung
lamp-surprise = Überraschung
lamp-on = an
lamp-off = aus
page-feedback = Wie war es?
page-happy = Gut
page-unhappy = Nicht gut
page-thanks = Danke für Ihre Antwort!
page-attract-title = Ein kleines Glück wartet auf Sie
page-attract-hint = Bildschirm berühren oder Münze einwerfen
page-front = Automatenfront (Simulator)
page-coins = Münze einwerfen
page-tray = Ausgabefach
page-tray-empty = Das Ausgabefach ist leer
page-take = Entnehmen
page-connection-lost = Außer Betrieb: Entschuldigung!
choose = { $product } wählen, { $price }
cannot-choose = { $product }: { $reason }
insert-coin = { $coin } einwerfen
coins-returned = { $count ->
    [one] Eine Münze zurückgegeben
   *[other] { $count } Münzen zurückgegeben
}

## Warum etwas nicht zu kaufen ist
reason-sold-out = Ausverkauft
reason-out-of-order = Gestört
reason-unavailable = Nicht verfügbar
reason-out-of-service = Außer Betrieb

## Überraschungen
reveal-look = Schauen Sie ins Ausgabefach!
reveal-extra-item = Noch einmal { $product } zum Teilen
reveal-share-pack = { $count } × { $product } für Sie und Ihre Freunde
reveal-gift = Ein Geschenk für Sie: { $product }
reveal-show = Eine Lichtshow, nur für Sie!
reveal-message = Eine Nachricht für Sie

## Überraschungstexte, wenn surprises.toml keinen nennt
surprise-extra-item = Überraschung! Noch einmal { $product }, aufs Haus.
surprise-share-pack = Überraschung! { $count } × { $product } zum Teilen mit Freunden.
surprise-gift = Überraschung! { $product } für Sie.
surprise-show = Überraschung! Das ist nur für Sie.
recovery-free-item = Entschuldigung! Wählen Sie ein Getränk auf unsere Kosten
recovery-message = Das tut uns leid. Danke für Ihre Geduld.
recovery-refunded = { $product } konnte nicht ausgegeben werden: { $amount } sind wieder in Ihrem Guthaben
recovery-unhappy = Schade, dass es nicht gepasst hat.
not-in-offer = { $product } gehört nicht zu unserem Angebot: wählen Sie etwas anderes oder drücken Sie Geldrückgabe
odds = Heute bekommt jeder { $n }. Kauf eine Überraschung: { $prizes }
page-free = Gratis

## Zahlen mit Karte
tap-or-insert = Münzen einwerfen oder Karte auflegen, dann wählen
tap-card = { $product } kostet { $price }: Karte auflegen oder noch { $missing } einwerfen
card-ready = Karte bereit: bitte wählen
card-ready-funds = Karte bereit ({ $funds } verfügbar): bitte wählen
card-waiting = { $price } werden von Ihrer Karte angefragt ({ $product })...
card-declined = Karte abgelehnt: andere Karte versuchen oder mit Münzen zahlen
card-timed-out = Das Kartenlesegerät hat nicht geantwortet: nichts wurde abgebucht. Erneut versuchen oder mit Münzen zahlen
refunded-card = { $product } konnte leider nicht ausgegeben werden: Ihre Karte wurde nicht belastet
recovery-refunded-card = { $product } konnte nicht ausgegeben werden: Ihre Karte wurde nicht belastet
