# Français : les mots pour la clientèle. Mêmes ids que en.ftl.

## Argent
money = { $amount } { $symbol }
decimal-separator = ,

## L'afficheur
welcome = Insérez des pièces, puis choisissez
welcome-free = Gratuit aujourd'hui : choisissez une boisson !
credit = Crédit { $credit } : choisissez une boisson
insert-more = { $product } coûte { $price } : insérez encore { $missing }
sold-out = Désolé, il n'y a plus de { $product }
out-of-order = Désolé, { $product } : colonne en panne, choisissez autre chose
vending = Voici votre { $product }...
retrying = { $product } ne tombe pas : nouvel essai ({ $attempt } sur { $of })...
please-wait = Patientez : votre article arrive
enjoy = Savourez votre { $product } !
refunded = Désolé, { $product } n'a pas pu être servi : { $amount } sont revenus sur votre crédit
coin-not-recognised = Pièce non reconnue : appelez l'exploitant
paying-out = Rendu de { $amount } : prenez vos pièces
credit-kept = Votre crédit de { $credit } est gardé pour votre prochain choix
power-restored = Désolé, le courant a été coupé pendant votre achat : { $refunded } sont revenus sur votre crédit ({ $credit } en tout)
service = Entretien en cours : vente en pause
out-of-service = Hors service : désolé !
out-of-service-credit = Hors service : votre crédit de { $credit } est en sécurité
starting-up = Démarrage : un instant, s'il vous plaît
storage-full = Hors service : stockage plein
storage-full-credit = Hors service : stockage plein. Votre crédit de { $credit } est en sécurité

## La page du kiosque
page-language = Langue
page-credit = Crédit
page-coin-return = Rendre la monnaie
page-products = Choisissez une boisson
page-lamps = Voyants
lamp-ready = Prêt
lamp-vending = Distribution
lamp-fault = Panne
lamp-surprise = Surprise
lamp-on = allumé
lamp-off = éteint
page-feedback = C'était comment ?
page-happy = Content
page-unhappy = Pas content
page-thanks = Merci de votre avis !
page-attract-title = Un petit bonheur vous attend
page-attract-hint = Touchez l'écran ou insérez une pièce
page-front = Façade de la machine (simulateur)
page-coins = Insérer une pièce
page-tray = Bac de distribution
page-tray-empty = Le bac est vide
page-take = Prendre
page-connection-lost = Hors service : désolé !
choose = Choisir { $product }, { $price }
cannot-choose = { $product } : { $reason }
insert-coin = Insérer { $coin }
coins-returned = { $count ->
    [one] Une pièce rendue
   *[other] { $count } pièces rendues
}

## Pourquoi un choix est impossible
reason-sold-out = Épuisé
reason-out-of-order = En panne
reason-unavailable = Indisponible
reason-out-of-service = Hors service

## Surprises
reveal-look = Regardez dans le bac !
reveal-extra-item = { $product } en plus, à partager
reveal-share-pack = { $count } × { $product } pour vous et vos amis
reveal-gift = Un cadeau pour vous : { $product }
reveal-show = Un spectacle de lumière, rien que pour vous !
reveal-message = Un mot pour vous

## Messages de surprise quand surprises.toml n'en donne pas
surprise-extra-item = Surprise ! { $product } en plus, offert par la maison.
surprise-share-pack = Surprise ! { $count } × { $product } à partager entre amis.
surprise-gift = Surprise ! { $product } pour vous.
surprise-show = Surprise ! Celle-ci est pour vous.
recovery-free-item = Désolé ! Choisissez une boisson, c'est offert
recovery-message = Nous sommes désolés. Merci de votre patience.
recovery-refunded = { $product } n'a pas pu être servi : { $amount } sont revenus sur votre crédit
recovery-unhappy = Désolé que ce ne soit pas parfait.
not-in-offer = { $product } ne fait pas partie de notre offre : choisissez autre chose, ou appuyez sur rendu de monnaie
odds = Aujourd'hui, 1 achat sur { $n } reçoit une surprise : { $prizes }
page-free = Offert

## Payer par carte
tap-or-insert = Insérez des pièces ou présentez une carte, puis choisissez
tap-card = { $product } coûte { $price } : présentez une carte ou insérez encore { $missing }
card-ready = Carte prête : choisissez une boisson
card-ready-funds = Carte prête ({ $funds } disponibles) : choisissez une boisson
card-waiting = Demande de { $price } à votre carte ({ $product })...
card-declined = Carte refusée : essayez une autre carte ou payez en pièces
card-timed-out = Le lecteur de carte n'a pas répondu : rien n'a été débité. Réessayez ou payez en pièces
refunded-card = Désolé, { $product } n'a pas pu être servi : votre carte n'a pas été débitée
recovery-refunded-card = { $product } n'a pas pu être servi : votre carte n'a pas été débitée
