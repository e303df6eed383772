# 日本語：お客様向けの文言。en.ftl と同じ id。

## お金
money = { $symbol }{ $amount }
decimal-separator = .

## 表示
welcome = 硬貨を入れて、お選びください
welcome-free = 本日無料：お好きな飲み物をどうぞ！
credit = 残高 { $credit }：お選びください
insert-more = { $product } は { $price } です：あと { $missing } 入れてください
sold-out = 申し訳ありません、{ $product } は売り切れです
out-of-order = 申し訳ありません、{ $product } は故障中です：ほかをお選びください
vending = { $product } をお出ししています…
retrying = { $product } が引っかかっています：もう一度試しています（{ $attempt }/{ $of }）…
please-wait = お待ちください：商品をお出ししています
enjoy = { $product } をお楽しみください！
refunded = 申し訳ありません、{ $product } をお出しできませんでした：{ $amount } は残高に戻りました
coin-not-recognised = 硬貨を認識できません：係員をお呼びください
paying-out = { $amount } をお返しします：硬貨をお取りください
credit-kept = 残高 { $credit } は次のお買い物に使えます
power-restored = 申し訳ありません、お買い物中に停電しました：{ $refunded } は残高に戻りました（合計 { $credit }）
service = 点検中：販売を一時停止しています
out-of-service = 販売停止中：申し訳ありません
out-of-service-credit = 販売停止中：残高 { $credit } は保護されています
starting-up = 起動中：少々お待ちください
storage-full = 販売停止中：記録領域がいっぱいです
storage-full-credit = 販売停止中：記録領域がいっぱいです。残高 { $credit } は保護されています

## キオスク画面
page-language = 言語
page-credit = 残高
page-coin-return = 返却
page-products = 飲み物を選ぶ
page-lamps = ランプ
lamp-ready = 販売中
lamp-vending = 商品準備中
lamp-fault = 故障
lamp-surprise = サプライズ
lamp-on = 点灯
lamp-off = 消灯
page-feedback = いかがでしたか？
page-happy = 満足
page-unhappy = 不満
page-thanks = ご回答ありがとうございます！
page-attract-title = 小さな幸せがあなたを待っています
page-attract-hint = 画面に触れるか、硬貨を入れてください
page-front = 自販機の前面（シミュレーター）
page-coins = 硬貨を入れる
page-tray = 取り出し口
page-tray-empty = 取り出し口は空です
page-take = 取り出す
page-connection-lost = 販売停止中：申し訳ありません
choose = { $product }（{ $price }）を選ぶ
cannot-choose = { $product }：{ $reason }
insert-coin = { $coin } を入れる
coins-returned = { $count } 枚返却しました

## 選べない理由
reason-sold-out = 売り切れ
reason-out-of-order = 故障中
reason-unavailable = 販売休止
reason-out-of-service = 販売停止中

## サプライズ
reveal-look = 取り出し口をご覧ください！
reveal-extra-item = シェア用にもう一本 { $product }
reveal-share-pack = { $product } × { $count }、お友達とどうぞ
reveal-gift = プレゼント：{ $product }
reveal-show = あなただけのライトショー！
reveal-message = あなたへのメッセージ

## surprises.toml にメッセージがないときのサプライズ文
surprise-extra-item = サプライズ！{ $product } をもう一本、サービスです。
surprise-share-pack = サプライズ！{ $product } × { $count }、お友達とどうぞ。
surprise-gift = サプライズ！{ $product } をどうぞ。
surprise-show = サプライズ！あなたのためのショーです。
recovery-free-item = 申し訳ありません！お好きな飲み物を無料でどうぞ
recovery-message = ご迷惑をおかけしました。ご辛抱ありがとうございます。
recovery-refunded = { $product } をお出しできませんでした：{ $amount } は残高に戻りました
recovery-unhappy = ご満足いただけず申し訳ありません。
not-in-offer = { $product } はこのサービスの対象外です：他の商品を選ぶか、返却ボタンを押してください
odds = 本日は { $n } 回に 1 回、サプライズがあります：{ $prizes }
page-free = 無料

## カードでのお支払い
tap-or-insert = 硬貨を入れるかカードをタッチして、お選びください
tap-card = { $product } は { $price } です：カードをタッチするか、あと { $missing } 入れてください
card-ready = カードの準備ができました：お選びください
card-ready-funds = カードの準備ができました（ご利用可能額 { $funds }）：お選びください
card-waiting = カードに { $price } を確認しています（{ $product }）...
card-declined = カードはご利用いただけません：別のカードか硬貨でお支払いください
card-timed-out = カードリーダーが応答しませんでした：請求はされていません。もう一度お試しいただくか、硬貨でお支払いください
refunded-card = 申し訳ありません、{ $product } をお出しできませんでした：カードへの請求はされていません
recovery-refunded-card = { $product } をお出しできませんでした：カードへの請求はされていません
